"""Security headers and error pages as a family's browser receives them."""

import re

import pytest

pytestmark = pytest.mark.django_db


def directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/", "/famille/connexion/", "/contact/", "/recherche/?q=menu"])
def test_public_pages_have_a_strict_content_security_policy(client, demo_site, url):
    response = client.get(url)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    html = response.content.decode()
    # What the policy would block must not be in our pages in the first place.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> on a public page"
    assert not re.search(r"\sstyle=", html), "inline style attribute on a public page"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler on a public page"


def test_only_the_wagtail_admin_gets_the_relaxed_policy(admin_client, demo_site):
    policy = directives(admin_client.get("/admin/")["Content-Security-Policy"])
    assert "'unsafe-inline'" in policy["script-src"]


def test_no_hsts_header_outside_production_https(client, demo_site):
    assert "Strict-Transport-Security" not in client.get("/", secure=True)


def test_unknown_page_gives_the_styled_404_with_the_site_layout(client, demo_site):
    response = client.get("/famille/nulle-part/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page introuvable" in html
    assert 'href="#contenu"' in html and "preau.css" in html
    assert "01 23 45 67 89" in html  # the footer's town contacts


@pytest.mark.urls("tests.website.urls")
def test_server_error_gives_the_styled_500_page_without_details(client, demo_site, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/test-erreur/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Un problème est survenu" in html
    assert "preau.css" in html and 'lang="fr"' in html
    # It cannot know whether the action was saved (a failure after the commit): it says so and
    # where to look, never that nothing changed.
    assert "ne sont pas modifiés" not in html
    assert "a peut-être été enregistré, ou peut-être pas" in html
    assert 'href="/famille/porte-monnaie/"' in html and 'href="/famille/planning/"' in html
    assert "deliberate failure" not in html and "Traceback" not in html


@pytest.mark.urls("tests.website.urls")
def test_server_error_page_follows_the_visitor_language(client, demo_site):
    client.raise_request_exception = False
    response = client.get("/test-erreur/", headers={"accept-language": "en"})
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and 'lang="en"' in html


def test_not_found_page_follows_the_visitor_language(client, demo_site):
    html = client.get("/nulle-part/", headers={"accept-language": "en"}).content.decode()
    assert "Page not found" in html and "Back to the home page" in html


def test_a_form_sent_without_the_csrf_cookie_gets_a_french_page_saying_what_to_do(demo_site):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/famille/connexion/", {"username": "parent@example.org", "password": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'lang="fr"' in html and "preau.css" in html
    assert "Le formulaire n’a pas pu être envoyé" in html
    assert "Rien n’a été enregistré" in html
    assert "01 23 45 67 89" in html  # the site's layout, with the town's contacts
    assert "CSRF" not in html and "DEBUG" not in html


def test_the_csrf_page_follows_the_visitor_language(demo_site):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/famille/connexion/", {"username": "x"}, headers={"accept-language": "en"})
    html = response.content.decode()
    assert 'lang="en"' in html and "The form could not be sent" in html

