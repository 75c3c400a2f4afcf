"""In January, each family with an attestation de frais de garde for the past year is told once,
by e-mail, that its PDF is in its space (what it says per child, where to download it), and
nobody else is; the hourly run costs one query once everyone was told."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import Family, SentNotification
from portal.services import notify
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import PARIS, make_family
from tests.portal.test_tax_attestation import DAYS, book, buy, eligible, young  # noqa: F401

pytestmark = pytest.mark.django_db

BASE = "https://preau.example.org"
JANUARY = datetime.datetime(2027, 1, 4, 9, 5, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.WAGTAILADMIN_BASE_URL = BASE


@pytest.fixture
def paid_care(dupont, young, eligible, care, agent, school):  # noqa: F811 (fixtures)
    """Léa Dupont (under 6) went to the evening care three days of 2026 at 1,50 €; the Martins'
    Tom is 8 and went too (nothing to attest); the Bernards have no child under 6 at all."""
    buy(dupont["family"], care, 5, 150, agent)
    book(young, eligible, DAYS[:3], dupont["user"])
    m_user, martin, (tom,) = make_family("Martin", "martin@example.org", school, children=("Tom",))
    buy(martin, care, 5, 150, agent)
    book(tom, eligible, DAYS[:2], m_user)
    make_family("Bernard", "bernard@example.org", school, children=("Zoé",))
    mail.outbox.clear()
    return dupont


def run(capture, now=JANUARY):
    with capture(execute=True):
        return notify.send_tax_attestation_notices(now)


def test_a_family_with_an_attestation_is_told_once_with_its_amounts_and_the_link(
        paid_care, django_capture_on_commit_callbacks):
    assert run(django_capture_on_commit_callbacks) == 1

    assert [m.to for m in mail.outbox] == [["dupont@example.org"]]
    message = mail.outbox[0]
    assert message.subject == "Votre attestation de frais de garde 2026 est prête"
    assert "Léa Dupont : 4,50 €" in message.body
    assert "Total : 4,50 €" in message.body
    assert f"{BASE}/famille/porte-monnaie/attestations/2026/pdf/" in message.body
    record = SentNotification.objects.get(kind="tax")
    assert record.family_id == paid_care["family"].pk

    # The next hourly runs, even days later, send nothing more.
    assert run(django_capture_on_commit_callbacks) == 0
    assert run(django_capture_on_commit_callbacks, JANUARY + datetime.timedelta(days=20)) == 0
    assert len(mail.outbox) == 1


def test_it_is_sent_whatever_the_familys_e_mail_choices(paid_care, django_capture_on_commit_callbacks):
    Family.objects.filter(pk=paid_care["family"].pk).update(
        email_reminders=False, email_low_balance=False, email_bookings=False, email_file=False,
        email_news=False)
    assert run(django_capture_on_commit_callbacks) == 1


@pytest.mark.parametrize("moment, expected", [
    (datetime.datetime(2026, 12, 31, 23, 30, tzinfo=PARIS), 0),  # the year is not over
    (datetime.datetime(2027, 1, 1, 10, 0, tzinfo=PARIS), 0),  # not on New Year's Day
    (datetime.datetime(2027, 1, 2, 8, 59, tzinfo=PARIS), 0),
    (datetime.datetime(2027, 1, 2, 9, 0, tzinfo=PARIS), 1),
    (datetime.datetime(2027, 6, 30, 23, 0, tzinfo=PARIS), 1),  # a family told late: still in time
    (datetime.datetime(2027, 7, 1, 0, 0, tzinfo=PARIS), 0),  # the tax returns are done
])
def test_families_are_told_from_2_january_9_00_to_the_end_of_june(
        paid_care, django_capture_on_commit_callbacks, moment, expected):
    assert run(django_capture_on_commit_callbacks, moment) == expected


def test_once_everyone_was_told_the_hourly_run_costs_one_query(paid_care, django_capture_on_commit_callbacks):
    run(django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as queries:
        assert notify.send_tax_attestation_notices(JANUARY + datetime.timedelta(hours=1)) == 0
    # The eligible services, then the families not yet told: none, so nothing is computed.
    assert len(queries) == 2


def test_the_hourly_command_sends_them(paid_care, django_capture_on_commit_callbacks, time_machine):
    time_machine.move_to(JANUARY, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_notifications", stdout=open("/dev/null", "w"))
    assert [m.subject for m in mail.outbox if "attestation" in m.subject] == [
        "Votre attestation de frais de garde 2026 est prête"]
