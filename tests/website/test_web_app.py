"""The web app's files: manifest, icons, service worker; whose page it is; logout clearing."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from tests.factories import make_family

pytestmark = pytest.mark.django_db


def test_the_manifest_names_the_town_and_lists_png_icons(client, demo_site):
    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    data = response.json()
    assert data["name"] == "Ville de Saint-Exemple — Périscolaire"
    assert data["start_url"] == "/famille/" and data["scope"] == "/"
    for icon in data["icons"]:
        image = Image.open(io.BytesIO(client.get(icon["src"]).content))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
    assert client.get("/icons/icon-48.png").status_code == 404


def test_the_service_worker_is_served_from_the_root_versioned_and_always_checked(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response["Content-Type"] == "text/javascript"
    assert response["Cache-Control"] == "no-cache"
    code = response.content.decode()
    assert 'const VERSION = "' in code and '"VERSION"' not in code
    assert "/static/css/preau.css" in code and "/hors-ligne/" in code


def test_pages_say_whose_they_are_without_saying_who(client, db):
    first = make_family("a@example.org", "Famille A").guardians.get()
    second = make_family("b@example.org", "Famille B").guardians.get()
    assert "Preau-User" not in client.get(reverse("portal:login"))
    client.force_login(first)
    mark = client.get(reverse("portal:dashboard"))["Preau-User"]
    assert str(first.pk) != mark and first.email not in mark
    client.force_login(second)
    assert client.get(reverse("portal:dashboard"))["Preau-User"] not in ("", mark)


def test_logging_out_clears_what_the_device_kept(client, db):
    client.force_login(make_family("a@example.org", "Famille A").guardians.get())
    response = client.post(reverse("portal:logout"))
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_the_offline_page_tells_to_reconnect(client, db):
    html = client.get("/hors-ligne/").content.decode()
    assert "Vous êtes hors ligne" in html and "reconnectez-vous" in html
