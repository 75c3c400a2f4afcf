"""base.html's chrome: the town settings come from the cache, fresh after an edit; the Wagtail
user bar (two permission queries) is for staff only."""

import pytest

from home.models import TownSettings
from tests.factories import make_editor, make_family

pytestmark = pytest.mark.django_db


def test_a_town_name_edited_in_the_admin_shows_on_the_next_page(client, demo_site):
    assert "Ville de Saint-Exemple" in client.get("/famille/connexion/").content.decode()
    settings = TownSettings.for_site(demo_site)
    settings.town_name = "Ville-Neuve"
    settings.save()
    html = client.get("/famille/connexion/").content.decode()
    assert "Ville-Neuve" in html and "Ville de Saint-Exemple" not in html


def test_the_town_settings_are_read_once_then_cached(client, demo_site):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/famille/connexion/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/famille/connexion/")
    assert not [q for q in queries.captured_queries if "home_townsettings" in q["sql"]]


def test_families_get_no_user_bar_and_editors_do(client, demo_site):
    family_user = make_family("parent@example.org", "Famille Test").guardians.get()
    client.force_login(family_user)
    assert "wagtail-userbar" not in client.get("/famille/").content.decode()
    client.force_login(make_editor())
    assert "wagtail-userbar" in client.get("/").content.decode()
