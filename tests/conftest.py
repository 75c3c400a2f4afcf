"""Shared fixtures: the demo town and named personas (see tests/factories.py)."""

import pytest
from django.core.management import call_command

MIGRATED_DATA = pytest.StashKey[str]()


@pytest.fixture(scope="session", autouse=True)
def _migrated_data_snapshot(request, django_db_setup, django_db_blocker):
    """When browser tests are among the session's (each worker's) tests, keep what the
    migrations put in the database before the first test runs: tests/e2e/conftest.py's `demo`
    puts it back after a transactional test's flush, and the first test of a worker may be one."""
    if not any(item.get_closest_marker("e2e") for item in request.session.items):
        return
    from django.db import connection

    with django_db_blocker.unblock():
        request.config.stash[MIGRATED_DATA] = connection.creation.serialize_db_to_string()


@pytest.fixture
def demo_site(db):
    """The public site as `load_demo` builds it (home page, news, documents, menus…)."""
    call_command("load_demo", stdout=open("/dev/null", "w"))
    from wagtail.models import Site

    return Site.objects.get(is_default_site=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the database is rolled back between tests, and a
    cached town or planning configuration must not outlive the rows it was read from."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _town_language():
    """Each test starts in the town's language: a request with an English cookie leaves English
    active in the thread (LocaleMiddleware does not switch back), and a later test in the same
    worker would read its French strings in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    """Every test writes uploads to its own folders, never to the developer's media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private-media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": tmp_path / "media"}},
        "private": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": tmp_path / "private-media", "base_url": None}},
    }
