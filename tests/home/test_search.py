"""The public site search (/recherche/) finds pages, the canteen menus and the tutorials."""

import re

import pytest
from django.core.management import call_command
from django.db import connection


def titles(client, query):
    page = client.get("/recherche/", {"q": query}).content.decode()
    return re.findall(r'<h3><a href="[^"]*">([^<]*)</a></h3>', page)


@pytest.fixture
def demo_without_worker(db, settings):
    """The demo loaded as `make run` does: indexing tasks queued for a worker that is not running."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    call_command("load_demo", stdout=open("/dev/null", "w"))


def test_the_demo_pages_menus_and_tutorials_are_found_without_a_task_worker(client, demo_without_worker):
    found = titles(client, "cantine")
    assert {"Menus de la cantine", "Semaine du goût à la cantine"} <= set(found)
    assert "Menus de la cantine" in titles(client, "menus")
    assert "Tutoriels" in titles(client, "tutoriels")
    assert "0 résultat" not in client.get("/recherche/", {"q": "cantine"}).content.decode()


def test_a_page_published_later_is_found(client, demo_site):
    from home.demo import add_child, get_home
    from home.models import StandardPage

    add_child(get_home(), StandardPage, "garderie-du-soir", title="Garderie du soir",
              intro="Jusqu’à 18 h 30.")
    assert "Garderie du soir" in titles(client, "garderie")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="French stemming needs PostgreSQL")
def test_french_words_are_found_in_their_other_forms_on_postgresql(client, demo_site):
    assert "Menus de la cantine" in titles(client, "cantines")
    assert "Tutoriels" in titles(client, "tutoriel")
