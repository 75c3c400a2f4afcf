import datetime

import pytest

from menus.models import WeekMenu
from menus.services import MenuCopyError, copy_to_next_week, latest_menu
from portal.models import School

from .conftest import NEXT_MONDAY, THIS_MONDAY, make_week

pytestmark = pytest.mark.django_db


def test_copy_creates_next_week_with_shifted_dates_and_the_same_dishes():
    source = make_week(THIS_MONDAY, days=3, visibility=WeekMenu.Visibility.FAMILIES, note="Goût")
    copy = copy_to_next_week(source)
    assert copy.week == NEXT_MONDAY
    assert (copy.visibility, copy.note, copy.school_id) == (WeekMenu.Visibility.FAMILIES, "Goût", None)
    old_days, new_days = list(source.days.order_by("date")), list(copy.days.order_by("date"))
    assert [d.date + datetime.timedelta(days=7) for d in old_days] == [d.date for d in new_days]
    assert [(d.starter_id, d.main_id, d.dessert_id) for d in old_days] == \
        [(d.starter_id, d.main_id, d.dessert_id) for d in new_days]
    # The source is untouched.
    assert source.days.count() == 3 and source.week == THIS_MONDAY


def test_copy_keeps_the_school_and_picks_that_schools_latest_menu():
    school = School.objects.create(name="École Jules-Ferry")
    make_week(THIS_MONDAY, days=1)
    make_week(THIS_MONDAY - datetime.timedelta(days=7), school=school, days=1)
    source = latest_menu(school)
    assert source.school == school
    assert copy_to_next_week(source).school == school
    assert WeekMenu.objects.filter(week=THIS_MONDAY, school=school).exists()


def test_copy_refuses_when_next_week_already_has_a_menu_and_creates_nothing():
    source = make_week(THIS_MONDAY, days=2)
    make_week(NEXT_MONDAY, days=1)
    with pytest.raises(MenuCopyError, match="Un menu existe déjà pour la semaine du 30 novembre 2026"):
        copy_to_next_week(source)
    assert WeekMenu.objects.get(week=NEXT_MONDAY).days.count() == 1
