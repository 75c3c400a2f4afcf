import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from menus.models import Dish, MenuDay, WeekMenu
from portal.models import School

from .conftest import NEXT_MONDAY, THIS_MONDAY, make_dish, make_week

pytestmark = pytest.mark.django_db


def html_of(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_this_week_and_next_week_with_allergens_and_labels(client, menus_page):
    menu = WeekMenu.objects.create(week=THIS_MONDAY, note="Semaine du goût")
    lasagnes = make_dish("Lasagnes végétariennes", allergens=["gluten", "lait"], is_vegetarian=True,
                         is_homemade=True)
    MenuDay.objects.create(menu=menu, date=THIS_MONDAY, note="Repas à thème", main=lasagnes)
    make_week(NEXT_MONDAY, days=1)
    html = html_of(client, "/menus/")
    assert "Cette semaine" in html and "du lundi 23 novembre au vendredi 27 novembre 2026" in html
    assert "Semaine prochaine" in html and "du lundi 30 novembre au vendredi 4 décembre 2026" in html
    assert "Lasagnes végétariennes" in html and "Repas à thème" in html and "Semaine du goût" in html
    assert '<span class="badge badge-label">Végétarien</span>' in html
    assert '<span class="badge badge-label">Fait maison</span>' in html
    assert '<abbr title="Lait et produits à base de lait (y compris le lactose)">Lait</abbr>' in html
    assert f"main {NEXT_MONDAY} 0" in html
    # The legend names all 14 allergens in full.
    assert "Les 14 allergènes à déclarer" in html
    assert "Anhydride sulfureux et sulfites" in html and "Mollusques et produits" in html


def test_a_week_without_menu_says_it_is_not_published_yet(client, menus_page):
    make_week(THIS_MONDAY, days=1)
    html = html_of(client, "/menus/")
    assert html.count("Le menu de cette semaine n’est pas encore publié.") == 1


def test_week_navigation_shows_the_requested_week_and_links_its_neighbours(client, menus_page):
    make_week(datetime.date(2026, 12, 14), days=1)
    html = html_of(client, "/menus/semaine/2026-12-14/")
    assert "du lundi 14 décembre au vendredi 18 décembre 2026" in html
    assert "main 2026-12-14 0" in html
    assert 'href="/menus/semaine/2026-12-07/" rel="prev"' in html
    assert 'href="/menus/semaine/2026-12-21/" rel="next"' in html
    assert "Cette semaine" in html  # link back to the current week
    home = html_of(client, "/menus/")
    assert 'href="/menus/semaine/2026-11-16/" rel="prev"' in home
    assert 'href="/menus/semaine/2026-11-30/" rel="next"' in home


def test_a_date_that_is_not_a_monday_redirects_to_its_monday_keeping_the_filter(client, menus_page):
    response = client.get("/menus/semaine/2026-11-26/", {"ecole": "3"})
    assert response.status_code == 302
    assert response["Location"] == "/menus/semaine/2026-11-23/?ecole=3"


@pytest.mark.parametrize("path", [
    "/menus/semaine/2026-02-30/",
    "/menus/semaine/2026-13-01/",
    "/menus/semaine/0001-01-01/",
    "/menus/semaine/9999-12-31/",
    "/menus/semaine/demain/",
    "/menus/semaine/2026-11-23/extra/",
])
def test_bad_week_urls_give_the_styled_404(client, menus_page, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_a_family_only_menu_is_hidden_from_anonymous_visitors(client, menus_page):
    make_week(THIS_MONDAY, days=2, visibility=WeekMenu.Visibility.FAMILIES)
    html = html_of(client, "/menus/")
    assert "Menu réservé aux familles connectées" in html
    assert "/famille/connexion/?next=/menus/" in html
    assert f"main {THIS_MONDAY}" not in html


def test_a_family_only_menu_is_shown_to_logged_in_families(client, menus_page, family_user):
    make_week(THIS_MONDAY, days=2, visibility=WeekMenu.Visibility.FAMILIES)
    client.force_login(family_user)
    html = html_of(client, "/menus/")
    assert "Menu réservé aux familles connectées" not in html
    assert f"main {THIS_MONDAY} 1" in html and "Réservé aux familles" in html


def test_school_filter_prefers_the_schools_own_menu_and_falls_back_to_all_schools(client, menus_page):
    ferry = School.objects.create(name="École Jules-Ferry")
    michel = School.objects.create(name="École Louise-Michel")
    common = WeekMenu.objects.create(week=THIS_MONDAY)
    MenuDay.objects.create(menu=common, date=THIS_MONDAY, main=make_dish("Poulet rôti"))
    own = WeekMenu.objects.create(week=THIS_MONDAY, school=michel)
    MenuDay.objects.create(menu=own, date=THIS_MONDAY, main=make_dish("Pique-nique"))

    html = html_of(client, "/menus/", ecole=michel.pk)
    assert "Pique-nique" in html and "Poulet rôti" not in html
    assert f'<option value="{michel.pk}" selected>' in html
    assert f'href="/menus/semaine/2026-11-16/?ecole={michel.pk}"' in html
    html = html_of(client, "/menus/", ecole=ferry.pk)
    assert "Poulet rôti" in html and "Pique-nique" not in html
    # Without a filter every school's menu shows, each under its school's name.
    html = html_of(client, "/menus/")
    assert "Poulet rôti" in html and "Pique-nique" in html and "École Louise-Michel</h3>" in html


@pytest.mark.parametrize("value", ["999999", "abc", "1 OR 1=1", "-1", "x" * 3000])
def test_an_unknown_school_is_ignored_with_a_message(client, menus_page, value):
    make_week(THIS_MONDAY, days=1)
    html = html_of(client, "/menus/", ecole=value)
    assert "L’école demandée n’existe pas" in html
    assert f"main {THIS_MONDAY} 0" in html


def test_the_page_is_readable_on_a_phone_and_printable(client, menus_page):
    make_week(THIS_MONDAY, days=1)
    html = html_of(client, "/menus/")
    assert 'href="/static/menus/menus.css"' in html
    assert '<li class="card menu-day">' in html
    assert 'class="menus-tools no-print"' in html
    assert "style=" not in html and "<script>" not in html  # strict CSP


# Site, page routing and view restrictions (Wagtail), schools, menus, days with their dishes,
# the dishes' allergens, the legend: none of them grows with the menu (base.html's town
# settings come from the cache).
ANONYMOUS_PAGE_QUERIES = 10


def fill_weeks(days):
    WeekMenu.objects.all().delete()
    school = School.objects.get_or_create(name="École Jules-Ferry")[0]
    make_week(THIS_MONDAY, days=days)
    make_week(NEXT_MONDAY, days=days)
    make_week(NEXT_MONDAY, days=days, school=school)


@pytest.mark.parametrize("days", [1, 5])
def test_the_page_runs_a_fixed_number_of_queries_whatever_the_number_of_days(
        client, menus_page, django_assert_num_queries, days):
    fill_weeks(days)
    client.get("/menus/")  # warm Wagtail's site-root cache
    with django_assert_num_queries(ANONYMOUS_PAGE_QUERIES):
        html = client.get("/menus/").content.decode()
    # Every dish really was rendered: 3 menus × days × 5 courses.
    assert html.count('class="dish-name"') == 3 * days * 5


def test_a_logged_in_family_costs_the_same_queries_for_one_day_or_five(
        client, menus_page, family_user, django_assert_num_queries):
    client.force_login(family_user)
    fill_weeks(1)
    client.get("/menus/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/menus/")
    fill_weeks(5)
    with django_assert_num_queries(len(queries)):
        assert client.get("/menus/").content.decode().count('class="dish-name"') == 75
    assert Dish.objects.count() > 75
