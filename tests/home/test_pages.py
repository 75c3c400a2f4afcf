import pytest

pytestmark = pytest.mark.django_db


def test_home_page_shows_town_quick_links_and_news(client, demo_site):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ville de Saint-Exemple" in html
    assert "Mon espace famille" in html
    assert "Les réservations de décembre sont ouvertes" in html
    # Town contacts are in the footer of every page.
    assert "01 23 45 67 89" in html and "06 12 34 56 78" in html
    assert 'lang="fr"' in html
    assert 'href="#contenu"' in html


def test_unknown_url_gives_the_styled_404(client, demo_site):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_contact_page_lists_town_hall_and_emergency_numbers(client, demo_site):
    html = client.get("/contact/").content.decode()
    assert "periscolaire@saint-exemple.example.org" in html
    assert "Urgence pendant la cantine ou la garderie" in html


def test_search_finds_pages_and_survives_odd_input(client, demo_site):
    response = client.get("/recherche/", {"q": "tarifs"})
    assert "Inscriptions et tarifs" in response.content.decode()
    assert client.get("/recherche/", {"q": "x" * 5000, "page": "abc"}).status_code == 200


def test_load_demo_twice_creates_nothing_new(demo_site):
    from django.core.management import call_command
    from wagtail.models import Page

    from documents.models import PreauDocument

    pages, documents = Page.objects.count(), PreauDocument.objects.count()
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert (Page.objects.count(), PreauDocument.objects.count()) == (pages, documents)


def test_public_responses_carry_security_headers(client, demo_site):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
