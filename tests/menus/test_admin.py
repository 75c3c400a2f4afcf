import datetime

import pytest
from django.urls import reverse

from menus.models import Dish, MenuDay, WeekMenu

from .conftest import NEXT_MONDAY, THIS_MONDAY, make_dish, make_week

pytestmark = pytest.mark.django_db

COPY_URL = "/admin/snippets/menus/weekmenu/copier-semaine/"


def week_form(week, days=(), school=""):
    data = {"week": week, "school": school, "visibility": "public", "note": "",
            "days-TOTAL_FORMS": str(len(days)), "days-INITIAL_FORMS": "0",
            "days-MIN_NUM_FORMS": "0", "days-MAX_NUM_FORMS": "5"}
    for i, (date, main) in enumerate(days):
        data.update({f"days-{i}-date": date, f"days-{i}-note": "", f"days-{i}-main": main or "",
                     f"days-{i}-id": "", f"days-{i}-DELETE": ""})
        for field in ("starter", "side", "dairy", "dessert"):
            data[f"days-{i}-{field}"] = ""
    return data


def test_an_editor_creates_a_week_menu_with_its_days_in_the_admin(client, editor):
    client.force_login(editor)
    dish = make_dish("Poulet rôti")
    add_url = reverse("wagtailsnippets_menus_weekmenu:add")
    response = client.post(add_url, week_form("2026-11-23", [("2026-11-24", dish.pk)]))
    assert response.status_code == 302, response.context["form"].errors
    menu = WeekMenu.objects.get(week=THIS_MONDAY)
    assert list(menu.days.values_list("date", "main")) == [(datetime.date(2026, 11, 24), dish.pk)]


def test_the_admin_refuses_a_week_that_is_not_a_monday_or_a_day_outside_it(client, editor):
    client.force_login(editor)
    add_url = reverse("wagtailsnippets_menus_weekmenu:add")
    response = client.post(add_url, week_form("2026-11-25"))
    assert response.status_code == 200
    assert "La semaine doit commencer un lundi" in response.content.decode()
    response = client.post(add_url, week_form("2026-11-23", [("2026-12-01", None)]))
    assert response.status_code == 200
    assert "Ce jour doit être entre le lundi 23 novembre" in response.content.decode()
    response = client.post(add_url, week_form("2026-11-23", [("2026-11-24", None),
                                                             ("2026-11-24", None)]))
    assert response.status_code == 200
    assert not WeekMenu.objects.exists() and not MenuDay.objects.exists()


def test_the_week_menu_listing_offers_copy_of_the_previous_week(client, editor):
    client.force_login(editor)
    menu = make_week(THIS_MONDAY, days=1)
    html = client.get(reverse("wagtailsnippets_menus_weekmenu:list")).content.decode()
    assert "Copier la semaine précédente" in html
    assert f"{COPY_URL}?source={menu.pk}" in html


def test_copy_previous_week_in_the_admin_creates_next_week_then_refuses_a_duplicate(client, editor):
    client.force_login(editor)
    old = make_week(THIS_MONDAY - datetime.timedelta(days=7), days=1)
    latest = make_week(THIS_MONDAY, days=4)
    response = client.get(COPY_URL)
    assert response.status_code == 200
    assert f'<option value="{latest.pk}" selected>' in response.content.decode()
    assert f'<option value="{old.pk}">' in response.content.decode()

    response = client.post(COPY_URL, {"source": latest.pk})
    copy = WeekMenu.objects.get(week=NEXT_MONDAY)
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailsnippets_menus_weekmenu:edit", args=[copy.pk])
    assert copy.days.count() == 4

    response = client.post(COPY_URL, {"source": latest.pk})
    assert response.status_code == 200
    assert "Un menu existe déjà pour la semaine du 30 novembre 2026" in response.content.decode()
    assert WeekMenu.objects.filter(week=NEXT_MONDAY).count() == 1
    response = client.post(COPY_URL, {"source": "999999"})
    assert response.status_code == 200
    assert "Ce menu n’existe plus" in response.content.decode()


def test_copy_previous_week_is_refused_to_users_without_admin_rights(client, family_user):
    client.force_login(family_user)
    make_week(THIS_MONDAY, days=1)
    response = client.post(COPY_URL, {"source": WeekMenu.objects.get().pk})
    assert response.status_code in (302, 403)
    assert WeekMenu.objects.count() == 1


def test_the_dish_chooser_finds_dishes_by_name_to_reuse_them(client, editor):
    client.force_login(editor)
    make_dish("Salade de lentilles", Dish.Course.STARTER)
    make_dish("Poulet rôti")
    url = reverse("wagtailsnippetchoosers_menus_dish:choose_results")
    html = client.get(url, {"q": "lentilles"}).content.decode()
    assert "Salade de lentilles" in html and "Poulet rôti" not in html


def test_the_admin_forms_render_with_dish_choosers(client, editor):
    client.force_login(editor)
    menu = make_week(THIS_MONDAY, days=2)
    for url in (reverse("wagtailsnippets_menus_weekmenu:add"),
                reverse("wagtailsnippets_menus_weekmenu:edit", args=[menu.pk]),
                reverse("wagtailsnippets_menus_dish:list"),
                reverse("wagtailsnippets_menus_dish:add")):
        assert client.get(url).status_code == 200, url
    html = client.get(reverse("wagtailsnippets_menus_weekmenu:edit", args=[menu.pk])).content.decode()
    assert "/admin/snippets/choose/menus/dish/" in html
    assert f"main {THIS_MONDAY} 1" in html
