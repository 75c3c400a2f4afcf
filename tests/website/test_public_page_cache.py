"""Public pages are kept for anonymous visitors and never for anyone else (portal/cache/public_pages.py)."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import Collection, CollectionViewRestriction

from documents.models import PreauDocument
from home.models import HomePage
from menus.models import WeekMenu
from portal.cache import display_cache, public_pages
from tests.menus.conftest import *  # noqa: F403  (menus_page, family_user, a frozen today)
from tests.menus.conftest import THIS_MONDAY, _frozen_today, make_week  # noqa: F401 (autouse)

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _shared_cache(settings, monkeypatch):
    settings.PREAU_SHARED_CACHE = True  # as with Redis: one process here, so locmem is shared
    monkeypatch.setattr(public_pages, "_local", {})
    monkeypatch.setattr(display_cache, "_local", {})
    cache.clear()


def get(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200
    return response


def queries_for(client, url, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = get(client, url, **extra)
    return len(queries), response


def test_an_anonymous_second_visit_is_served_without_a_query_with_the_same_page(client, demo_site):
    first = get(client, "/").content.decode()
    count, second = queries_for(Client(), "/")
    assert count == 0
    assert TOKEN.sub("", first) == TOKEN.sub("", second.content.decode())
    # It carries a per-visitor token: browsers ask again, shared caches never keep it.
    assert second["Cache-Control"] == "private, no-cache"
    assert {"Cookie", "Accept-Language"} <= {v.strip() for v in second["Vary"].split(",")}
    assert "Content-Security-Policy" in second and second["X-Frame-Options"] == "DENY"


def test_the_kept_page_gets_a_fresh_working_csrf_token_for_each_visitor(demo_site):
    get(Client(), "/")
    visitor = Client(enforce_csrf_checks=True)
    count, response = queries_for(visitor, "/")
    assert count == 0
    html = response.content.decode()
    assert "\x00" not in html
    token = TOKEN.search(html).group(1)
    answer = visitor.post("/i18n/setlang/", {"csrfmiddlewaretoken": token, "language": "en", "next": "/"})
    assert answer.status_code == 302
    # The language cookie gives the English page, kept apart from the French one.
    english = get(visitor, "/").content.decode()
    assert '<html lang="en">' in english and '<html lang="fr">' in get(Client(), "/").content.decode()


def test_a_published_change_is_shown_at_once(client, demo_site):
    assert "Nouveau titre de l’accueil" not in get(client, "/").content.decode()
    home = HomePage.objects.get()
    home.title = "Nouveau titre de l’accueil"
    home.save_revision().publish()
    count, response = queries_for(Client(), "/")
    assert count > 0
    assert "Nouveau titre de l’accueil" in response.content.decode()


def test_an_unpublished_page_is_gone_at_once(client, demo_site):
    get(client, "/documents-utiles/")
    from documents.models import DocumentsPage

    DocumentsPage.objects.get().unpublish()
    assert Client().get("/documents-utiles/").status_code == 404


def test_a_new_document_and_a_new_menu_show_at_once(client, menus_page):
    html = get(client, "/menus/").content.decode()
    assert f"main {THIS_MONDAY} 0" not in html
    make_week(THIS_MONDAY, days=1)
    assert f"main {THIS_MONDAY} 0" in get(Client(), "/menus/").content.decode()


def test_a_logged_in_view_never_comes_from_the_cache_nor_goes_into_it(client, menus_page, family_user):
    make_week(THIS_MONDAY, days=2, visibility=WeekMenu.Visibility.FAMILIES)
    anonymous = get(Client(), "/menus/").content.decode()
    assert "Menu réservé aux familles connectées" in anonymous
    client.force_login(family_user)
    count, response = queries_for(client, "/menus/")
    html = response.content.decode()
    assert count > 0 and "Mon espace" in html and f"main {THIS_MONDAY} 1" in html
    assert response.get("Cache-Control") != "private, no-cache"
    # The family's page did not replace the anonymous one.
    again = get(Client(), "/menus/").content.decode()
    assert "Menu réservé aux familles connectées" in again and f"main {THIS_MONDAY} 1" not in again


def test_a_family_only_menu_seen_first_by_a_family_never_reaches_anonymous_visitors(
        client, menus_page, family_user):
    make_week(THIS_MONDAY, days=2, visibility=WeekMenu.Visibility.FAMILIES)
    client.force_login(family_user)
    get(client, "/menus/")
    get(client, "/menus/")
    html = get(Client(), "/menus/").content.decode()
    assert f"main {THIS_MONDAY} 1" not in html and "Mon espace" not in html


def test_a_private_document_link_never_leaks_into_the_anonymous_page(client, demo_site, django_user_model):
    regulation = PreauDocument.objects.get(kind=PreauDocument.Kind.REGULATION)
    assert CollectionViewRestriction.objects.filter(collection=regulation.collection).exists()
    client.force_login(django_user_model.objects.create_user(email="f@example.org"))
    assert f'href="{regulation.url}"' in get(client, "/documents-utiles/").content.decode()
    html = get(Client(), "/documents-utiles/").content.decode()
    assert regulation.url not in html and "réservé aux familles connectées" in html
    # And a collection made private afterwards hides the link at once.
    guide = PreauDocument.objects.get(kind=PreauDocument.Kind.GUIDE)
    assert guide.url in get(Client(), "/documents-utiles/").content.decode()
    private = Collection.get_first_root_node().add_child(name="Familles seulement")
    CollectionViewRestriction.objects.create(collection=private,
                                             restriction_type=CollectionViewRestriction.LOGIN)
    guide.collection = private
    guide.save()
    assert guide.url not in get(Client(), "/documents-utiles/").content.decode()


def test_a_visitor_with_a_session_or_a_message_is_never_answered_from_the_cache(client, demo_site):
    get(client, "/")
    assert queries_for(Client(), "/")[0] == 0
    with_session = Client()
    with_session.cookies["sessionid"] = "whatever"
    assert queries_for(with_session, "/")[0] > 0
    with_message = Client()
    with_message.cookies["messages"] = "x"
    assert queries_for(with_message, "/")[0] > 0


def test_portal_pages_are_not_kept(client, demo_site):
    for _ in range(2):
        response = get(Client(), "/famille/connexion/")
    assert response.get("Cache-Control") != "private, no-cache"
    assert public_pages._local == {}


def test_with_redis_unreachable_pages_are_computed(client, demo_site, monkeypatch):
    get(client, "/")
    monkeypatch.setattr(display_cache, "versions", lambda *namespaces: None)
    count, response = queries_for(Client(), "/")
    assert count > 0 and response.get("Cache-Control") != "private, no-cache"
