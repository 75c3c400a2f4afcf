"""Two app servers share the database and the cache (Redis) but not their memory: what one
writes, the other shows at once (bench/scaleout.py proves it with two gunicorns behind nginx).

Here the two servers are one process whose memory is swapped: each "instance" has its own kept
planning pages, display values and public pages, while the cache (locmem, as shared within one
process as Redis is between servers) and the database are common."""

from contextlib import contextmanager

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from portal.cache import display_cache, page_cache, public_pages
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import NOW, give_tickets

pytestmark = pytest.mark.django_db
BOOK = 'aria-label="Cantine Disponible — Réserver Cantine le lundi 14 septembre pour Léa"'
CANCEL = 'aria-label="Cantine Réservé annuler — Annuler Cantine le lundi 14 septembre pour Léa"'


class Instance:
    def __init__(self):
        self.memory = ({}, 0, {}, {})

    @contextmanager
    def serving(self):
        saved = (page_cache._pages, page_cache._size, display_cache._local, public_pages._local)
        page_cache._pages, page_cache._size, display_cache._local, public_pages._local = self.memory
        try:
            yield
        finally:
            self.memory = (page_cache._pages, page_cache._size, display_cache._local, public_pages._local)
            page_cache._pages, page_cache._size, display_cache._local, public_pages._local = saved


@pytest.fixture(autouse=True)
def _shared(settings):
    settings.PREAU_SHARED_CACHE = True
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_booking_made_through_one_server_shows_at_once_on_the_other_s_kept_page(
        client, dupont, canteen, meal):
    a, b = Instance(), Instance()
    give_tickets(dupont["family"], meal, 2)
    client.force_login(dupont["user"])
    url = reverse("portal:planning") + "?mois=2026-09"
    with b.serving():
        assert BOOK in client.get(url).content.decode()
        assert len(page_cache._pages) == 1  # B keeps the page in its memory
    with a.serving():
        answer = client.post(reverse("portal:planning_act"), {
            "scope": "family", "mois": "2026-09", "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14"})
        assert answer.status_code == 302
    with b.serving():
        html = client.get(url).content.decode()
    assert CANCEL in html and "Repas : <strong>1</strong>" in html


def test_a_family_logged_in_through_one_server_is_logged_in_on_the_other(dupont):
    a, b = Instance(), Instance()
    family = Client()
    with a.serving():
        assert family.post(reverse("portal:login"), {
            "username": "dupont@example.org", "password": "x" * 12}).status_code == 302
    with b.serving():
        assert family.get(reverse("portal:dashboard")).status_code == 200


def test_a_publication_through_one_server_shows_at_once_on_the_other_s_kept_public_page(demo_site):
    from home.models import HomePage

    a, b = Instance(), Instance()
    with b.serving():
        Client().get("/")
        assert Client().get("/")["Cache-Control"] == "private, no-cache"
    with a.serving():
        home = HomePage.objects.get()
        home.title = "Inscriptions ouvertes"
        home.save_revision().publish()
    with b.serving():
        assert "Inscriptions ouvertes" in Client().get("/").content.decode()
