import pytest
from django.core.management import call_command

from menus.models import Dish, MenuDay, MenusPage, WeekMenu
from portal.models import School

from .conftest import THIS_MONDAY

pytestmark = pytest.mark.django_db


def test_the_demo_builds_four_weeks_around_today_and_a_families_only_week(demo_site):
    assert MenusPage.objects.get().url_path.endswith("/menus/")
    assert Dish.objects.count() >= 25
    weeks = sorted(WeekMenu.objects.filter(school=None).values_list("week", flat=True))
    assert [(w - THIS_MONDAY).days for w in weeks] == [-7, 0, 7, 14]
    private = WeekMenu.objects.get(school__name="École Louise-Michel")
    assert private.visibility == WeekMenu.Visibility.FAMILIES
    assert Dish.objects.filter(allergens__isnull=False).distinct().count() > 10
    assert Dish.objects.filter(is_organic=True).exists() and Dish.objects.filter(is_local=True).exists()


def test_the_demo_menus_page_answers_at_slash_menus(client, demo_site):
    html = client.get("/menus/").content.decode()
    assert "Cette semaine" in html and "Omelette aux fines herbes" in html
    michel = School.objects.get(name="École Louise-Michel")
    html = client.get("/menus/", {"ecole": michel.pk}).content.decode()
    assert "Menu réservé aux familles connectées" in html


def test_loading_the_demo_twice_creates_nothing_new(demo_site):
    counts = (Dish.objects.count(), WeekMenu.objects.count(), MenuDay.objects.count(),
              School.objects.count(), MenusPage.objects.count())
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert (Dish.objects.count(), WeekMenu.objects.count(), MenuDay.objects.count(),
            School.objects.count(), MenusPage.objects.count()) == counts
