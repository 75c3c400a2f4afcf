import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from menus.models import Allergen, Dish, MenuDay, WeekMenu
from portal.models import School

from .conftest import NEXT_MONDAY, THIS_MONDAY, make_dish

pytestmark = pytest.mark.django_db


def test_the_fourteen_eu_allergens_are_seeded_with_names_and_short_labels():
    allergens = {a.code: a for a in Allergen.objects.all()}
    assert len(allergens) == 14
    assert allergens["fruits-a-coque"].short_label == "Fruits à coque"
    assert allergens["gluten"].name.startswith("Céréales contenant du gluten")
    assert {"crustaces", "oeufs", "poissons", "arachides", "soja", "lait", "celeri", "moutarde",
            "sesame", "sulfites", "lupin", "mollusques"} <= set(allergens)


def test_a_week_menu_must_start_on_a_monday_with_a_french_message():
    menu = WeekMenu(week=datetime.date(2026, 11, 25))
    with pytest.raises(ValidationError) as error:
        menu.full_clean()
    message = error.value.message_dict["week"][0]
    assert "La semaine doit commencer un lundi" in message
    assert "lundi 23 novembre 2026" in message


def test_a_monday_week_menu_is_valid():
    WeekMenu(week=THIS_MONDAY).full_clean()


def test_only_one_menu_per_week_and_school():
    school = School.objects.create(name="École Jules-Ferry")
    WeekMenu.objects.create(week=THIS_MONDAY, school=school)
    with pytest.raises(ValidationError, match="Un menu existe déjà pour cette semaine et cette école"):
        WeekMenu(week=THIS_MONDAY, school=school).full_clean()
    with pytest.raises(IntegrityError):
        WeekMenu.objects.create(week=THIS_MONDAY, school=school)


def test_only_one_all_schools_menu_per_week_even_though_school_is_null():
    WeekMenu.objects.create(week=THIS_MONDAY)
    with pytest.raises(ValidationError, match="toutes les écoles"):
        WeekMenu(week=THIS_MONDAY).full_clean()
    with pytest.raises(IntegrityError):
        WeekMenu.objects.create(week=THIS_MONDAY)


def test_a_school_menu_and_an_all_schools_menu_can_share_a_week():
    school = School.objects.create(name="École Louise-Michel")
    WeekMenu.objects.create(week=THIS_MONDAY)
    WeekMenu(week=THIS_MONDAY, school=school).full_clean()


def test_a_menu_day_must_fall_between_monday_and_friday_of_its_week():
    menu = WeekMenu.objects.create(week=THIS_MONDAY)
    with pytest.raises(ValidationError, match="Ce jour doit être entre le lundi 23 novembre"):
        MenuDay(menu=menu, date=NEXT_MONDAY).full_clean()
    with pytest.raises(ValidationError):
        MenuDay(menu=menu, date=THIS_MONDAY + datetime.timedelta(days=5)).full_clean()
    MenuDay(menu=menu, date=THIS_MONDAY + datetime.timedelta(days=4)).full_clean()


def test_a_dish_lists_its_labels_as_words():
    dish = make_dish("Pomme", Dish.Course.DESSERT, is_organic=True, is_local=True)
    assert [str(label) for label in dish.labels] == ["Bio", "Local"]


def test_a_dish_name_is_unique_per_course_so_editors_reuse_it():
    make_dish("Yaourt nature", Dish.Course.DAIRY)
    with pytest.raises(ValidationError, match="Ce plat existe déjà"):
        Dish(name="Yaourt nature", course=Dish.Course.DAIRY).full_clean()
