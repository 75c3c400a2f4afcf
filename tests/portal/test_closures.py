"""A closure the town hall enters over booked days cancels them and gives the tickets back
(portal/services/closures.py), after the agent confirmed the number shown."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse

from portal.models import (
    AbsenceReport,
    AuditLog,
    Booking,
    Closure,
    LedgerEntry,
    SentNotification,
    Wallet,
)
from portal.services import attendance, closures, deadlines
from portal.services.wallet import find_inconsistencies
from tests.portal.fixtures_attendance import *  # noqa: F403
from tests.portal.fixtures_attendance import MONDAY, MONDAY_MORNING, book, give_tickets, make_family
from tests.portal.fixtures_mail import *  # noqa: F403

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + datetime.timedelta(days=1)
THURSDAY = MONDAY + datetime.timedelta(days=3)
ADD = reverse("fermetures:add")


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.WAGTAILADMIN_BASE_URL = "https://famille.example.org"


@pytest.fixture
def booked(meals, dupont, martin, other_school):
    """Léa: canteen Monday and Tuesday, evening care Monday, canteen Thursday; Tom: canteen
    Monday; Zoé, at the other school: canteen Monday."""
    canteen, evening = meals["canteen"], meals["evening"]
    _user, _family, (zoe,) = make_family("Roux", "roux@example.org", other_school, children=("Zoé",))
    return {
        "lea": [book(dupont["child"], canteen, MONDAY), book(dupont["child"], evening, MONDAY),
                book(dupont["child"], canteen, TUESDAY)],
        "lea_thursday": book(dupont["child"], canteen, THURSDAY),
        "tom": book(martin["child"], canteen, MONDAY),
        "zoe": book(zoe, canteen, MONDAY),
    }


def strike(school, **extra):
    return {"kind": "one_off", "reason": "Grève", "start": MONDAY.isoformat(),
            "end": TUESDAY.isoformat(), "school": school.pk, "service": "", **extra}


def balance(family, ticket_type):
    return Wallet.objects.get(family=family, ticket_type=ticket_type).balance


def active(*bookings):
    return [Booking.objects.get(pk=b.pk).is_active for b in bookings]


def test_the_agent_is_told_how_many_bookings_a_closure_cancels_before_anything_is_saved(
        admin_client, booked, school):
    response = admin_client.post(ADD, strike(school))

    page = response.content.decode()
    assert response.status_code == 200
    assert ("Cette fermeture annule 4 réservations (2 famille(s)) et rend leurs tickets. "
            "Cochez la case pour confirmer.") in page
    assert not Closure.objects.exists()
    assert active(*booked["lea"], booked["tom"]) == [True] * 4
    assert mail.outbox == []


def test_a_confirmed_closure_cancels_the_days_gives_the_tickets_back_and_tells_each_family_once(
        admin_client, admin_user, booked, school, dupont, martin, meal, care,
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(ADD, strike(school, confirm_cancel="on"), follow=True)

    assert ("4 réservations annulées, 4 ticket(s) rendu(s), 2 famille(s) prévenue(s)."
            in response.content.decode())
    assert active(*booked["lea"], booked["tom"]) == [False] * 4
    assert active(booked["lea_thursday"], booked["zoe"]) == [True, True]  # other day, other school
    # Each family bought one ticket per booking: all come back but Thursday's.
    assert (balance(dupont["family"], meal), balance(dupont["family"], care)) == (2, 1)
    assert balance(martin["family"], meal) == 1
    refunds = LedgerEntry.objects.filter(kind="cancellation")
    assert refunds.count() == 4
    assert {(e.quantity, e.agent, e.reason.split(" — ")[0]) for e in refunds} == {
        (1, admin_user, "Fermeture : Grève")}
    assert find_inconsistencies() == []
    assert AuditLog.objects.filter(action="closure.cancel").count() == 2

    assert sorted(m.to[0] for m in mail.outbox) == ["dupont@example.org", "martin@example.org"]
    message = next(m for m in mail.outbox if m.to == ["dupont@example.org"])
    assert message.subject == "Fermeture : réservations annulées et tickets rendus"
    assert ("La mairie a fermé l’accueil périscolaire du lundi 14 septembre au mardi 15 septembre : "
            "Grève.\n"
            "Réservations annulées pour Léa :\n"
            "  – lundi 14 septembre (Cantine)\n"
            "  – lundi 14 septembre (Garderie du soir)\n"
            "  – mardi 15 septembre (Cantine)\n"
            "Tickets rendus dans votre porte-monnaie : 1 ticket « Garderie », 2 tickets « Repas ».\n"
            ) in message.body
    assert "https://famille.example.org/famille/planning/" in message.body
    assert SentNotification.objects.filter(kind="bookings").count() == 2


def test_saving_the_closure_again_refunds_and_tells_nothing_twice(
        admin_client, booked, school, dupont, meal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(ADD, strike(school, confirm_cancel="on"), follow=True)
    closure = Closure.objects.get()
    edit = reverse("fermetures:edit", args=[closure.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(edit, strike(school), follow=True)  # no bookings left: no question

    assert response.status_code == 200 and "annulée" not in response.content.decode()
    assert balance(dupont["family"], meal) == 2
    assert LedgerEntry.objects.filter(kind="cancellation").count() == 4
    assert len(mail.outbox) == 2
    assert find_inconsistencies() == []


def test_extending_a_closure_cancels_the_new_days_only(admin_client, booked, school, dupont,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(ADD, strike(school, confirm_cancel="on"))
    closure = Closure.objects.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("fermetures:edit", args=[closure.pk]),
                          strike(school, end=THURSDAY.isoformat(), confirm_cancel="on"))

    assert active(booked["lea_thursday"]) == [False]
    assert [m.to for m in mail.outbox] == [["dupont@example.org"]]
    assert "– jeudi 17 septembre (Cantine)\n" in mail.outbox[0].body
    assert "lundi 14 septembre (Cantine)" not in mail.outbox[0].body


def test_a_closure_of_one_service_leaves_the_others_booked(admin_client, booked, school, meals,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(ADD, strike(school, service=meals["evening"].pk, confirm_cancel="on"))

    assert active(*booked["lea"]) == [True, False, True]
    assert "Garderie du soir" in mail.outbox[0].body and "(Cantine)" not in mail.outbox[0].body


def test_an_excused_absence_keeps_its_one_ticket_back(booked, meals, dupont, meal, town_agent,
                                                      django_capture_on_commit_callbacks):
    attendance.excuse_absence(dupont["child"], meals["canteen"], MONDAY, by=town_agent,
                              reason="Certificat", tell=False)
    closure = Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY)
    with django_capture_on_commit_callbacks(execute=True):
        result = closures.apply_closure(closure, by=town_agent)

    assert result.refunded == len(result.cancelled) - 1
    canteen_monday = Booking.objects.get(pk=booked["lea"][0].pk)
    assert (canteen_monday.status, canteen_monday.refunded) == ("cancelled", False)
    assert LedgerEntry.objects.filter(booking=canteen_monday, kind="cancellation").count() == 0
    assert find_inconsistencies() == []
    body = next(m for m in mail.outbox if m.to == ["dupont@example.org"]).body
    assert "– lundi 14 septembre (Cantine) (ticket déjà rendu pour l’absence excusée)" in body


def test_a_closure_after_an_excuse_was_started_cannot_give_the_ticket_twice(
        booked, meals, dupont, town_agent):
    closure = Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY)
    closures.apply_closure(closure, by=town_agent)

    with pytest.raises(attendance.RollCallError):
        attendance.excuse_absence(dupont["child"], meals["canteen"], MONDAY, by=town_agent,
                                  reason="Certificat")
    assert find_inconsistencies() == []


def test_a_day_whose_roll_call_is_closed_keeps_its_bookings_and_penalties(
        booked, meals, school, dupont, martin, animateur, town_agent, on_monday, meal,
        django_capture_on_commit_callbacks):
    canteen = meals["canteen"]
    # Monday's canteen took place at Jules-Ferry: Tom marked present, the roll-call closed.
    attendance.mark_child(school, canteen, MONDAY, martin["child"], present=True, by=animateur,
                          now=MONDAY_MORNING)
    attendance.close_roll_call(school, canteen, MONDAY, by=animateur, now=MONDAY_MORNING)
    closure = Closure(reason="Grève", start=MONDAY, end=MONDAY, school=school)

    impact = closures.closure_impact(closure)
    closure.save()
    result = closures.apply_closure(closure, by=town_agent)

    assert (impact.bookings, impact.kept) == (1, 2)  # Léa's evening care; both canteens kept
    assert (len(result.cancelled), result.kept) == (1, 2)
    assert active(booked["tom"], booked["lea"][0], booked["lea"][1]) == [True, True, False]


def test_a_pending_absence_report_is_answered_by_the_closure(booked, meals, dupont, town_agent):
    report = AbsenceReport.objects.create(child=dupont["child"], service=meals["canteen"], date=MONDAY,
                                          reason="Fièvre", created_by=dupont["user"])
    closure = Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY)
    closures.apply_closure(closure, by=town_agent)

    report.refresh_from_db()
    assert report.state == AbsenceReport.State.ACCEPTED
    assert report.response == "Jour fermé (Grève) : la réservation est annulée."
    assert not report.refunded  # the cancellation gave the ticket back, once
    assert find_inconsistencies() == []


def test_importing_holidays_over_booked_days_cancels_them(admin_client, booked, dupont,
                                                         django_capture_on_commit_callbacks):
    def holidays(zone, start, end):
        return [("Vacances de test", MONDAY, MONDAY)]

    import portal.services.deadlines as module

    original = module.school_holidays
    module.school_holidays = holidays
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(reverse("fermetures:import"), {
                "start": "2026-09-01", "end": "2026-09-30", "zone": "B"}, follow=True)
    finally:
        module.school_holidays = original

    page = response.content.decode()
    assert "1 fermeture(s) ajoutée(s). 4 réservation(s) de ces jours annulée(s)" in page
    assert active(booked["zoe"], booked["lea"][2]) == [False, True]
    assert deadlines.import_holidays(MONDAY, MONDAY, "B", False) == []


def test_the_family_summaries_are_in_french_when_the_agent_works_in_english(
        admin_client, admin_user, booked, school, django_capture_on_commit_callbacks):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(admin_user)
    profile.preferred_language = "en"
    profile.save()
    form = admin_client.get(reverse("reservations:edit", args=[booked["zoe"].pk])).content.decode()
    assert "Cancel" in form  # the agent's admin is in English
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("reservations:edit", args=[booked["zoe"].pk]),
                          {"refund": "yes", "reason": "Sortie"})
        admin_client.post(ADD, strike(school, confirm_cancel="on"))

    assert len(mail.outbox) == 3
    for message in mail.outbox:
        assert "Bonjour," in message.body
    assert mail.outbox[0].subject == "Réservation annulée par la mairie"
    assert "Le ticket « Repas » vous est rendu." in mail.outbox[0].body
    assert mail.outbox[1].subject == "Fermeture : réservations annulées et tickets rendus"


def test_the_family_sees_the_tickets_back_and_the_history_line_at_once(
        admin_client, booked, school, dupont, logged_dupont, django_capture_on_commit_callbacks):
    before = logged_dupont.get(reverse("portal:wallet")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(ADD, strike(school, confirm_cancel="on"))

    page = logged_dupont.get(reverse("portal:wallet")).content.decode()
    def meals_left(html):
        return re.search(r'<h3>Repas</h3>\s*<p class="phone-big">(\d+) ticket', html).group(1)

    assert (meals_left(before), meals_left(page)) == ("0", "2")
    assert page.count("Annulation") == before.count("Annulation") + 3


def test_a_booking_committed_just_as_the_closure_was_saved_is_cancelled_by_a_second_pass(
        admin_client, admin_user, booked, school, dupont, meals, care, monkeypatch,
        django_capture_on_commit_callbacks):
    from django.db import transaction

    from portal import tasks
    from portal.services.wallet import apply_entry, lock_wallet

    queued = []
    monkeypatch.setattr(tasks, "sweep_closure", type("Task", (), {
        "enqueue": staticmethod(lambda *args: queued.append(args))}))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(ADD, strike(school, confirm_cancel="on"))
    closure = Closure.objects.get()
    assert queued == [(closure.pk, admin_user.pk)]  # the second pass, after the commit
    monkeypatch.undo()
    # A family's click whose rules were read before the closure existed commits just after.
    give_tickets(dupont["family"], care, 1)
    with transaction.atomic():
        wallet = lock_wallet(dupont["family"].pk, care.pk)
        slipped = Booking.objects.create(child=dupont["child"], service=meals["evening"], date=TUESDAY)
        apply_entry(wallet, -1, LedgerEntry.Kind.BOOKING, booking=slipped)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_closure.enqueue(closure.pk, admin_user.pk)

    slipped.refresh_from_db()
    assert (slipped.status, slipped.refunded) == ("cancelled", True)
    assert find_inconsistencies() == []
    assert [m.to for m in mail.outbox] == [["dupont@example.org"]]
    assert "– mardi 15 septembre (Garderie du soir)\n" in mail.outbox[0].body
