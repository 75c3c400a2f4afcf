"""The header navigation and the footer are rendered once per language and set of values
(`{% fragment %}`), then reused: every value they show must still follow at once, and nothing
per request (CSRF token, current path) may be shared."""

import re

import pytest
from django.conf import settings

from home.models import TownSettings
from tests.factories import make_family

pytestmark = pytest.mark.django_db


def test_every_town_field_of_the_footer_follows_an_edit_at_once(client, demo_site):
    client.get("/famille/connexion/")
    town = TownSettings.for_site(demo_site)
    town.town_hall_phone = "01 99 88 77 66"
    town.emergency_phone = "06 55 44 33 22"
    town.town_hall_email = "periscolaire@ville-neuve.example"
    town.town_hall_address = "3 place du Marché"
    town.save()
    html = client.get("/famille/connexion/").content.decode()
    for value in ("01 99 88 77 66", "tel:0655443322", "periscolaire@ville-neuve.example",
                  "3 place du Marché"):
        assert value in html


def test_the_header_follows_the_visitor_the_page_and_the_language(client, demo_site):
    html = client.get("/famille/connexion/").content.decode()
    assert "Se connecter" in html and "Porte-monnaie" not in html
    client.force_login(make_family("parent@example.org", "Famille Test").guardians.get())
    html = client.get("/famille/porte-monnaie/").content.decode()
    assert "Se connecter" not in html
    assert re.search(r'href="/famille/porte-monnaie/"\s+aria-current="page"', html)
    html = client.get("/famille/").content.decode()
    assert "Porte-monnaie" in html and 'aria-current="page"' not in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/famille/").content.decode()
    assert "School services emergency" in html and "Urgence périscolaire" not in html


def test_the_language_form_keeps_its_own_csrf_token_and_current_path(client, demo_site):
    first = client.get("/famille/connexion/?next=/famille/").content.decode()
    client.cookies.clear()
    second = client.get("/contact/").content.decode()
    assert 'name="next" value="/famille/connexion/?next=/famille/"' in first
    assert 'name="next" value="/contact/"' in second
    token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert token.findall(first)[-1] != token.findall(second)[-1]
