"""Closing a roll-call applies the regulation: penalties (or a debt), excused absences."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

from portal.models import AuditLog, Booking, LedgerEntry, Purchase, Service, TicketDebt, Wallet
from portal.services import attendance
from portal.services.booking import book_day
from portal.services.payments.purchases import record_town_hall_payment
from portal.services.wallet import credit_tickets, find_inconsistencies, get_wallet
from tests.portal.fixtures_attendance import *  # noqa: F403
from tests.portal.fixtures_attendance import MONDAY, MONDAY_MORNING, NOW, book, give_tickets, make_family

pytestmark = pytest.mark.django_db


def rc_url(school, service, name="staff:roll_call", day=MONDAY):
    return reverse(name, args=[day.isoformat(), school.pk, service.pk])


def mark(school, service, child, present, by):
    return attendance.mark_child(school, service, MONDAY, child, present=present, by=by, now=MONDAY_MORNING)


def close(school, service, by):
    return attendance.close_roll_call(school, service, MONDAY, by=by, now=MONDAY_MORNING)


@pytest.fixture
def penalty_of_two(meals):
    Service.objects.filter(pk=meals["canteen"].pk).update(unbooked_penalty=2)
    meals["canteen"].refresh_from_db()
    return meals["canteen"]


def balance(family, ticket_type):
    return Wallet.objects.get(family=family, ticket_type=ticket_type).balance


def test_present_without_booking_costs_the_penalty_at_closing(penalty_of_two, school, martin, meal, animateur,
                                                              client, on_monday):
    give_tickets(martin["family"], meal, 3)
    m = mark(school, penalty_of_two, martin["child"], True, animateur)
    assert balance(martin["family"], meal) == 3  # nothing charged before the closing

    _rc, charged = close(school, penalty_of_two, animateur)

    assert charged == 1 and balance(martin["family"], meal) == 1
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.PENALTY)
    assert entry.quantity == -2 and entry.attendance == m
    assert entry.reason == "Pénalité : présence sans réservation, Cantine du 14/09/2026"
    assert AuditLog.objects.get(action="attendance.penalty").after == {"tickets": 2, "taken": 2, "debt": 0}
    assert AuditLog.objects.filter(action="rollcall.close").exists()
    assert find_inconsistencies() == []
    client.force_login(martin["user"])
    history = client.get(reverse("portal:wallet")).content.decode()
    # The child is named from the roll-call mark, not kept in the ledger's text.
    assert "Pénalité : présence sans réservation, Cantine du 14/09/2026, Tom" in history


def test_what_the_wallet_lacks_becomes_a_debt_the_next_purchase_pays_first(
        penalty_of_two, school, martin, meal, animateur, agent, client, on_monday):
    Service.objects.filter(pk=penalty_of_two.pk).update(unbooked_penalty=3)
    penalty_of_two.refresh_from_db()
    give_tickets(martin["family"], meal, 1)
    mark(school, penalty_of_two, martin["child"], True, animateur)

    close(school, penalty_of_two, animateur)

    assert balance(martin["family"], meal) == 0  # never below zero
    debt = TicketDebt.objects.get()
    assert (debt.quantity, debt.remaining) == (2, 2)
    assert find_inconsistencies() == []
    client.force_login(martin["user"])
    assert "Pénalités dues : 2 tickets, retenus sur votre prochain achat." in client.get(
        reverse("portal:wallet")).content.decode()

    # A purchase of one ticket pays one back; the next one pays the rest and leaves the balance.
    credit_tickets(get_wallet(martin["family"], meal), 1, "Achat", by=agent, kind=LedgerEntry.Kind.PURCHASE)
    assert balance(martin["family"], meal) == 0
    debt.refresh_from_db()
    assert debt.remaining == 1
    record_town_hall_payment(martin["family"], meal, 5, Purchase.Method.CASH, by=agent, unit_cents=300)
    debt.refresh_from_db()
    assert debt.remaining == 0 and balance(martin["family"], meal) == 4
    paid_back = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PENALTY, attendance=debt.attendance)
    assert sorted(e.quantity for e in paid_back) == [-1, -1, -1]
    assert "retenue sur l’achat" in paid_back.order_by("-pk").first().reason
    assert find_inconsistencies() == []
    call_command("check_wallets")
    assert "Pénalités dues" not in client.get(reverse("portal:wallet")).content.decode()


def test_an_agent_credit_is_not_taken_by_the_debt(penalty_of_two, school, martin, meal, animateur, agent,
                                                  on_monday):
    mark(school, penalty_of_two, martin["child"], True, animateur)
    close(school, penalty_of_two, animateur)
    credit_tickets(get_wallet(martin["family"], meal), 1, "Geste commercial", by=agent)
    assert balance(martin["family"], meal) == 1 and TicketDebt.objects.get().remaining == 2


def test_booked_and_absent_keeps_the_ticket_spent(meals, school, dupont, meal, animateur, on_monday):
    book(dupont["child"], meals["canteen"])
    mark(school, meals["canteen"], dupont["child"], False, animateur)
    before = LedgerEntry.objects.count()

    close(school, meals["canteen"], animateur)

    assert LedgerEntry.objects.count() == before and balance(dupont["family"], meal) == 0
    assert find_inconsistencies() == []


def test_an_agent_excuses_an_absence_and_the_ticket_comes_back_once(meals, school, dupont, meal, animateur,
                                                                    town_agent, client, on_monday):
    book(dupont["child"], meals["canteen"])
    mark(school, meals["canteen"], dupont["child"], False, animateur)
    close(school, meals["canteen"], animateur)
    client.force_login(town_agent)

    for _ in range(2):  # the same post twice (a retry)
        client.post(rc_url(school, meals["canteen"], "staff:roll_call_excuse"),
                    {"enfant": dupont["child"].pk, "motif": "Certificat médical"})

    assert balance(dupont["family"], meal) == 1
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.EXCUSE)
    assert entry.quantity == 1 and entry.agent == town_agent
    # The family's reason (maybe health) stays on the roll-call mark, which the retention
    # schedule empties; the ledger keeps neither it nor the child's name.
    assert entry.reason == "Absence excusée : Cantine du 14/09/2026"
    assert AuditLog.objects.filter(action="attendance.excuse").count() == 1
    assert find_inconsistencies() == []
    page = client.get(rc_url(school, meals["canteen"])).content.decode()
    assert "absence excusée, ticket rendu" in page
    client.force_login(dupont["user"])
    history = client.get(reverse("portal:wallet")).content.decode()
    assert "Absence excusée : Cantine du 14/09/2026, Léa" in history


def test_an_excuse_needs_a_reason_and_a_booking_and_an_agent(meals, school, dupont, martin, animateur,
                                                             town_agent, on_monday):
    book(dupont["child"], meals["canteen"])
    with pytest.raises(attendance.RollCallError, match="motif"):
        attendance.excuse_absence(dupont["child"], meals["canteen"], MONDAY, by=town_agent, reason=" ")
    with pytest.raises(attendance.RollCallError, match="pas inscrit"):
        attendance.excuse_absence(martin["child"], meals["canteen"], MONDAY, by=town_agent, reason="Malade")
    with pytest.raises(PermissionDenied):
        attendance.excuse_absence(dupont["child"], meals["canteen"], MONDAY, by=animateur, reason="Malade")
    mark(school, meals["canteen"], dupont["child"], True, animateur)
    with pytest.raises(attendance.RollCallError, match="pointé présent"):
        attendance.excuse_absence(dupont["child"], meals["canteen"], MONDAY, by=town_agent, reason="Malade")
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.EXCUSE).exists()


def test_an_animateur_cannot_excuse_through_the_page(meals, school, dupont, animateur, client, on_monday):
    book(dupont["child"], meals["canteen"])
    client.force_login(animateur)
    response = client.post(rc_url(school, meals["canteen"], "staff:roll_call_excuse"),
                           {"enfant": dupont["child"].pk, "motif": "Malade"})
    assert response.status_code == 404
    assert "Excuser l’absence" not in client.get(rc_url(school, meals["canteen"])).content.decode()


def test_an_excused_child_cannot_be_marked_present_by_the_staff(meals, school, dupont, animateur, town_agent,
                                                                on_monday):
    book(dupont["child"], meals["canteen"])
    attendance.excuse_absence(dupont["child"], meals["canteen"], MONDAY, by=town_agent, reason="Malade")
    with pytest.raises(attendance.RollCallError, match="excusée"):
        mark(school, meals["canteen"], dupont["child"], True, animateur)


def test_closing_twice_is_refused_and_changes_nothing(penalty_of_two, school, martin, meal, animateur,
                                                      client, on_monday):
    give_tickets(martin["family"], meal, 5)
    mark(school, penalty_of_two, martin["child"], True, animateur)
    client.force_login(animateur)

    client.post(rc_url(school, penalty_of_two, "staff:roll_call_close"))
    response = client.post(rc_url(school, penalty_of_two, "staff:roll_call_close"))

    assert "L’appel est déjà clos." in client.get(response["Location"]).content.decode()
    assert balance(martin["family"], meal) == 3
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PENALTY).count() == 1


def test_a_booking_added_by_an_agent_after_the_mark_means_no_penalty(penalty_of_two, school, martin, meal,
                                                                    animateur, agent, on_monday):
    give_tickets(martin["family"], meal, 3)
    mark(school, penalty_of_two, martin["child"], True, animateur)
    book_day(martin["child"], penalty_of_two, MONDAY, by=agent, now=NOW)

    close(school, penalty_of_two, animateur)

    assert balance(martin["family"], meal) == 2  # the booking's ticket only
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PENALTY).exists()


def test_check_wallets_catches_a_debt_changed_behind_the_ledgers_back(penalty_of_two, school, martin,
                                                                      animateur, on_monday):
    mark(school, penalty_of_two, martin["child"], True, animateur)
    close(school, penalty_of_two, animateur)
    TicketDebt.objects.update(remaining=0)
    assert len(find_inconsistencies()) == 1


def test_the_planning_page_shows_the_penalty_at_once(penalty_of_two, school, martin, meal, animateur,
                                                      settings, client, monkeypatch, on_monday):
    from portal.cache import display_cache, page_cache

    settings.PREAU_SHARED_CACHE = True  # as with Redis: the page is kept and reused
    monkeypatch.setattr(page_cache, "_pages", {})
    monkeypatch.setattr(page_cache, "_size", 0)
    monkeypatch.setattr(display_cache, "_local", {})
    give_tickets(martin["family"], meal, 3)
    client.force_login(martin["user"])
    url = reverse("portal:planning") + "?mois=2026-09"
    assert "Repas : <strong>3</strong>" in client.get(url).content.decode()
    assert "Repas : <strong>3</strong>" in client.get(url).content.decode()  # served again
    mark(school, penalty_of_two, martin["child"], True, animateur)

    close(school, penalty_of_two, animateur)

    assert "Repas : <strong>1</strong>" in client.get(url).content.decode()


def test_a_booked_child_not_marked_at_all_is_charged_nothing(meals, school, dupont, meal, animateur,
                                                             on_monday):
    book(dupont["child"], meals["canteen"])
    close(school, meals["canteen"], animateur)
    assert balance(dupont["family"], meal) == 0 and Booking.objects.get().status == "active"
    assert LedgerEntry.objects.count() == 2  # the purchase and the booking, nothing more


@pytest.mark.parametrize("other_booked_evening", [True, False],
                         ids=["with-the-other-household", "no-booking"])
def test_a_child_of_two_households_is_charged_to_the_one_it_was_with_that_day(
        penalty_of_two, meals, school, dupont, meal, care, animateur, on_monday, other_booked_evening,
        django_capture_on_commit_callbacks):
    dad, durand, _ = make_family("Durand", "durand@example.org", school, children=())
    lea = dupont["child"]
    lea.other_family = durand
    lea.save()
    give_tickets(dupont["family"], meal, 3)
    give_tickets(durand, meal, 3)
    if other_booked_evening:  # the Durands booked Léa's evening care: she was with them that day
        give_tickets(durand, care, 1)
        book_day(lea.seen_by(durand), meals["evening"], MONDAY, by=dad, now=NOW)
    mark(school, penalty_of_two, lea, True, animateur)

    with django_capture_on_commit_callbacks(execute=True):
        _rc, charged = close(school, penalty_of_two, animateur)

    charged_family, spared = ((durand, dupont["family"]) if other_booked_evening
                              else (dupont["family"], durand))
    assert charged == 1
    assert (balance(charged_family, meal), balance(spared, meal)) == (1, 3)
    assert AuditLog.objects.get(action="attendance.penalty").family_id == charged_family.pk
    told = [m.to for m in mail.outbox if m.subject.startswith("Présence sans réservation")]
    assert told == [[charged_family.guardians.get().email]]
    assert find_inconsistencies() == []
