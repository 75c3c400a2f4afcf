"""What every e-mail Préau sends a family must be, checked on each message a test captured:
French, plain text only, signed with the town's name, every link absolute.

Imported with `from tests.portal.fixtures_mail import *`: its autouse fixture then checks every
test of the module."""

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
def _every_family_email_is_checked(settings):
    settings.WAGTAILADMIN_BASE_URL = BASE
    yield
    for message in mail.outbox:
        check_family_email(message)
