"""Schemathesis fuzzes every operation of /api/v1/openapi.json, as a family with a token and
data to act on: no 5xx on any input, and every answer (status, content type, body) matches the
OpenAPI document. Bounded by max_examples so the whole run stays well under a minute."""

import datetime
import uuid

import pytest
import schemathesis
import time_machine
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.models import AppToken, Booking, Child, LedgerEntry, Price, TariffBracket, WaitlistEntry
from portal.services import app_tokens
from portal.services.payments.purchases import record_town_hall_payment
from portal.services.wallet import apply_entry, lock_wallet
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


# Loaded at collection (pytest-django has set Django up by then; the document needs no
# database). Schemathesis's lazy `from_fixture` loader does not run under pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler would close the test's connection at each request's end (Django's test
    client disconnects the same receivers): the requests run inside the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def family_token(dupont, martin, canteen, evening, meal, care):
    """The Duponts with tickets, a price, a booking, a waiting-list entry, attestations de frais de
    garde (2025's final, 2026's provisional) and a token; the Martins' objects nearby."""
    # Léa, under 6, went to the evening care (eligible for the tax credit) on paid tickets.
    Child.objects.filter(pk=dupont["child"].pk).update(birth_date=datetime.date(2021, 3, 1))
    evening.childcare_tax_credit = True
    evening.save()
    record_town_hall_payment(dupont["family"], care, 2, "cash", by=None, unit_cents=150)
    with transaction.atomic():
        wallet = lock_wallet(dupont["family"].pk, care.pk)
        for day in (datetime.date(2025, 10, 6), MONDAY + datetime.timedelta(days=1)):
            booking = Booking.objects.create(child=dupont["child"], service=evening, date=day)
            apply_entry(wallet, -1, LedgerEntry.Kind.BOOKING, by=dupont["user"], booking=booking)
    give_tickets(dupont["family"], meal, 20)
    give_tickets(dupont["family"], care, 20)
    bracket = TariffBracket.objects.create(name="A")
    Price.objects.create(ticket_type=meal, bracket=bracket, unit_cents=350)
    dupont["family"].tariff_bracket = bracket
    dupont["family"].save()
    Booking.objects.create(child=dupont["child"], service=canteen, date=MONDAY)
    Booking.objects.create(child=martin["child"], service=canteen, date=MONDAY)
    # The evening care takes one child: Monday is full, Léa waits, Tuesday is free.
    evening.capacity = 1
    evening.save()
    Booking.objects.create(child=martin["child"], service=evening, date=MONDAY)
    WaitlistEntry.objects.create(child=dupont["child"], service=evening, date=MONDAY)
    raw = f"{app_tokens.PREFIX}{uuid.uuid4().hex}"
    AppToken.objects.create(user=dupont["user"], token_hash=app_tokens.hash_token(raw))
    return raw


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_operation_answers_by_its_schema_and_never_5xx(case, family_token):
    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        case.call_and_validate(headers={"Authorization": f"Bearer {family_token}"}, checks=CHECKS)
