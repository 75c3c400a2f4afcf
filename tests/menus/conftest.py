"""Menus fixtures: a frozen "today", a menus page, and small builders for dishes and weeks."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from wagtail.models import Page, Site

from menus.models import Allergen, Dish, MenuDay, MenusPage, WeekMenu

# A Wednesday: "this week" starts on Monday 23 November 2026.
TODAY = datetime.date(2026, 11, 25)
THIS_MONDAY = datetime.date(2026, 11, 23)
NEXT_MONDAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def menus_page(db):
    root = Page.get_first_root_node()
    home = root.get_children().first()
    page = MenusPage(title="Menus de la cantine", slug="menus")
    home.add_child(instance=page)
    page.save_revision().publish()
    Site.objects.update_or_create(is_default_site=True, defaults={
        "hostname": "localhost", "port": 80, "root_page": home})
    return page


@pytest.fixture
def family_user(db):
    return get_user_model().objects.create_user(email="parent@example.org", password="x" * 16,
                                                first_name="Paule", last_name="Parent")


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_superuser(email="editrice@example.org", password="x" * 16,
                                                     first_name="Élise", last_name="Éditrice")


def make_dish(name, course=Dish.Course.MAIN, allergens=(), **labels):
    dish = Dish.objects.create(name=name, course=course, **labels)
    dish.allergens.set(Allergen.objects.filter(code__in=allergens))
    return dish


def make_week(monday, *, school=None, days=5, visibility=WeekMenu.Visibility.PUBLIC, note=""):
    """A week whose days each have all five courses, every dish with an allergen and a label."""
    menu = WeekMenu.objects.create(week=monday, school=school, visibility=visibility, note=note)
    for offset in range(days):
        courses = {
            field: make_dish(f"{field} {monday} {offset} {menu.pk}", course, allergens=["lait", "gluten"],
                             is_organic=True)
            for field, course in zip(MenuDay.COURSE_FIELDS, Dish.Course.values, strict=True)
        }
        MenuDay.objects.create(menu=menu, date=monday + datetime.timedelta(days=offset), **courses)
    return menu
