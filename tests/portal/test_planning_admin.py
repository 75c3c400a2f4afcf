import datetime

import pytest
from django.urls import reverse

from portal.models import Booking, Closure, LedgerEntry, Service, Wallet
from portal.services.booking import book_day
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, agent):
    client.force_login(agent)
    return client


@pytest.mark.parametrize("namespace", ["prestations", "fermetures", "types-ticket", "tranches", "tarifs",
                                       "porte-monnaie", "reservations"])
def test_every_planning_listing_opens_for_an_agent(admin_client, canteen, dupont, meal, namespace):
    give_tickets(dupont["family"], meal, 1)
    assert admin_client.get(reverse(f"{namespace}:index")).status_code == 200


def test_a_family_cannot_open_the_back_office(client, dupont):
    client.force_login(dupont["user"])
    response = client.get(reverse("porte-monnaie:index"))
    assert response.status_code == 302


def test_an_agent_creates_a_service_with_its_weekdays(admin_client, school, meal):
    response = admin_client.post(reverse("prestations:add"), {
        "name": "Mercredi", "schools": [school.pk], "ticket_type": meal.pk, "weekday_choices": ["2"],
        "weekdays": "", "start": "2026-09-02", "end": "2027-07-03", "capacity": "24", "order": "3",
        "booking_rule": "weekly", "booking_days": "0", "booking_weekday": "3", "booking_time": "23:59",
        "cancel_rule": "days_before", "cancel_days": "2", "cancel_weekday": "3", "cancel_time": "10:00",
        "unbooked_penalty": "1", "sick_rule": "first_day",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    service = Service.objects.get(name="Mercredi")
    assert service.weekdays == "2" and service.booking_rule == "weekly"


def test_a_service_without_any_weekday_is_refused(admin_client, school, meal):
    response = admin_client.post(reverse("prestations:add"), {
        "name": "Vide", "schools": [school.pk], "ticket_type": meal.pk, "weekdays": "",
        "start": "2026-09-02", "end": "2027-07-03", "order": "3", "booking_rule": "days_before",
        "booking_days": "2", "booking_weekday": "3", "booking_time": "10:00", "cancel_rule": "days_before",
        "cancel_days": "2", "cancel_weekday": "3", "cancel_time": "10:00",
        "unbooked_penalty": "1", "sick_rule": "first_day",
    })
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["weekday_choices"]
    assert not Service.objects.filter(name="Vide").exists()


def test_an_agent_credits_and_debits_a_wallet_with_a_reason(admin_client, dupont, meal, agent):
    from portal.models import AuditLog

    wallet = give_tickets(dupont["family"], meal, 0)
    url = reverse("porte-monnaie:edit", args=[wallet.pk])
    response = admin_client.post(url, {"direction": "credit", "quantity": "5",
                                       "reason": "Certificat médical"})
    assert response.status_code == 302
    log = AuditLog.objects.get(action="wallet.credit")
    assert (log.actor, log.family) == (agent, dupont["family"])
    assert log.after == {"tickets": 5, "reason": "Certificat médical", "balance": 5}
    entry = LedgerEntry.objects.get(wallet=wallet)
    assert (entry.quantity, entry.reason, entry.agent) == (5, "Certificat médical", agent)
    response = admin_client.post(url, {"direction": "debit", "quantity": "9", "reason": "Erreur"})
    assert response.status_code == 200
    assert "Solde insuffisant" in response.content.decode()
    assert Wallet.objects.get(pk=wallet.pk).balance == 5
    assert not AuditLog.objects.filter(action="wallet.debit").exists()


@pytest.mark.parametrize("data", [{"direction": "credit", "quantity": "-3", "reason": "x"},
                                  {"direction": "steal", "quantity": "3", "reason": "x"},
                                  {"direction": "credit", "quantity": "abc", "reason": ""}])
def test_bad_wallet_input_changes_nothing(admin_client, dupont, meal, data):
    wallet = give_tickets(dupont["family"], meal, 0)
    response = admin_client.post(reverse("porte-monnaie:edit", args=[wallet.pk]), data)
    assert response.status_code == 200
    assert not LedgerEntry.objects.exists()


def test_the_wallet_page_names_the_child_of_a_booking_from_the_booking(admin_client, dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 1)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    page = admin_client.get(reverse("porte-monnaie:edit", args=[wallet.pk])).content.decode()
    # The ledger's text names no one; the agent still sees whose day it was.
    name = dupont["child"].first_name
    assert f"<td>Cantine 14/09/2026</td><td>{name}</td>" in page


@pytest.mark.parametrize(("refund", "balance"), [("yes", 1), ("no", 0)])
def test_an_agent_cancels_a_booking_after_the_deadline(admin_client, dupont, canteen, meal, refund, balance):
    wallet = give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    response = admin_client.post(reverse("reservations:edit", args=[booking.pk]),
                                 {"refund": refund, "reason": "Certificat médical"})
    assert response.status_code == 302
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    assert Wallet.objects.get(pk=wallet.pk).balance == balance
    from portal.models import AuditLog

    log = AuditLog.objects.get(action="booking.cancel")
    assert log.after["refunded"] == (refund == "yes")


def test_importing_school_holidays_twice_creates_them_once(admin_client):
    url = reverse("fermetures:import")
    assert admin_client.get(url).status_code == 200
    data = {"start": "2026-09-01", "end": "2027-08-31", "zone": "B", "public": "on"}
    assert admin_client.post(url, data).status_code == 302
    count = Closure.objects.count()
    assert Closure.objects.filter(kind="school_holiday", reason="Vacances de Noël").exists()
    assert Closure.objects.filter(kind="public_holiday", start=datetime.date(2026, 11, 11)).exists()
    admin_client.post(url, data)
    assert Closure.objects.count() == count
    backwards = {"start": "2027-01-01", "end": "2026-01-01", "zone": "B"}
    assert admin_client.post(url, backwards).status_code == 200
