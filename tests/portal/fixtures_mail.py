"""What every e-mail Préau sends a family must be, checked on each message a test captured:
French, plain text only, signed with the town's name, every link absolute.

Imported with `from tests.portal.fixtures_mail import *`: its autouse fixture then checks every
test of the module (its name has no leading underscore: a star import would leave it out)."""

import re

import pytest
from django.core import mail

BASE = "https://famille.example.org"
URL = re.compile(r"(?:https?://|/famille/|/equipe/|/admin/)\S*")


def check_family_email(message):
    from portal.services.town import town_settings

    body = message.body
    assert not message.alternatives, "plain text only"
    assert body.startswith("Bonjour,"), body[:80]  # French, whatever the request's language
    town = town_settings()
    assert town is None or town.town_name in body, "signed with the town's name"
    for url in URL.findall(body):
        assert url.startswith(BASE + "/"), f"relative or foreign link: {url}"
    assert message.subject and "\n" not in message.subject


@pytest.fixture(autouse=True)
def every_family_email_is_checked(settings, django_db_blocker):
    settings.WAGTAILADMIN_BASE_URL = BASE
    yield
    # A test's own `transactional_db` ends before this autouse fixture: the town is read again
    # (from the cache, or None once the tables are flushed: then only the name is not checked).
    with django_db_blocker.unblock():
        for message in mail.outbox:
            check_family_email(message)
