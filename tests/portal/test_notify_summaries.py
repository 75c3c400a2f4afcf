"""Booking summaries: what the town hall or a roll-call changed, and a weekly pattern's result."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from portal.models import Booking, SentNotification, Service
from portal.services import attendance
from tests.portal.fixtures_attendance import *  # noqa: F403
from tests.portal.fixtures_attendance import MONDAY, MONDAY_MORNING, book, give_tickets
from tests.portal.fixtures_mail import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.WAGTAILADMIN_BASE_URL = "https://famille.example.org"


def only_message(to):
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    assert mail.outbox[0].to == [to]
    return mail.outbox[0]


def test_an_agents_cancellation_is_told_to_the_family(admin_client, dupont, meals, meal,
                                                      django_capture_on_commit_callbacks):
    give_tickets(dupont["family"], meal, 1)
    booking = book(dupont["child"], meals["canteen"])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("reservations:edit", args=[booking.pk]),
                          {"refund": "yes", "reason": "Sortie scolaire"})

    message = only_message("dupont@example.org")
    assert message.subject == "Réservation annulée par la mairie"
    assert ("La mairie a annulé la réservation : Cantine du lundi 14 septembre pour Léa. "
            "Le ticket « Repas » vous est rendu. Motif : Sortie scolaire.") in message.body
    assert "https://famille.example.org/famille/planning/" in message.body
    assert SentNotification.objects.get().kind == "bookings"


def test_an_agents_ticket_adjustment_is_told_to_the_family(admin_client, dupont, meal,
                                                           django_capture_on_commit_callbacks):
    wallet = give_tickets(dupont["family"], meal, 2)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("porte-monnaie:edit", args=[wallet.pk]),
                          {"direction": "credit", "quantity": "3", "reason": "Geste commercial"})

    message = only_message("dupont@example.org")
    assert message.subject == "Tickets ajoutés par la mairie"
    assert ("La mairie a ajouté 3 tickets « Repas » à votre porte-monnaie (motif : Geste "
            "commercial). Solde : 5.") in message.body


def test_a_family_that_switched_summaries_off_is_not_told(admin_client, dupont, meal,
                                                          django_capture_on_commit_callbacks):
    dupont["family"].email_bookings = False
    dupont["family"].save()
    wallet = give_tickets(dupont["family"], meal, 2)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("porte-monnaie:edit", args=[wallet.pk]),
                          {"direction": "debit", "quantity": "1", "reason": "Erreur"})

    assert mail.outbox == []


def test_a_penalty_at_the_roll_call_closing_is_told_without_health_data(
        meals, school, martin, meal, animateur, on_monday, django_capture_on_commit_callbacks):
    Service.objects.filter(pk=meals["canteen"].pk).update(unbooked_penalty=2)
    meals["canteen"].refresh_from_db()
    martin["child"].allergies = "Gluten"
    martin["child"].save()
    give_tickets(martin["family"], meal, 1)
    attendance.mark_child(school, meals["canteen"], MONDAY, martin["child"], present=True,
                          by=animateur, now=MONDAY_MORNING)
    with django_capture_on_commit_callbacks(execute=True):
        attendance.close_roll_call(school, meals["canteen"], MONDAY, by=animateur, now=MONDAY_MORNING)

    message = only_message("martin@example.org")
    assert message.subject == "Présence sans réservation"
    assert ("Tom était présent(e) sans réservation : Cantine du lundi 14 septembre pour Tom. "
            "Pénalité : 2 tickets « Repas ». 1 ticket manquant sera retenu sur votre prochain "
            "achat.") in message.body
    assert "Gluten" not in message.body


def test_an_excused_absence_is_told_without_its_reason(meals, school, dupont, meal, town_agent,
                                                       on_monday, django_capture_on_commit_callbacks):
    book(dupont["child"], meals["canteen"])
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            attendance.excuse_absence(dupont["child"], meals["canteen"], MONDAY, by=town_agent,
                                      reason="Gastro-entérite")

    message = only_message("dupont@example.org")
    assert ("La mairie a excusé l’absence : Cantine du lundi 14 septembre pour Léa. "
            "Le ticket « Repas » vous est rendu.") in message.body
    assert "Gastro" not in message.body


def test_a_weekly_pattern_sends_its_result(client, dupont, meals, meal,
                                           django_capture_on_commit_callbacks):
    import time_machine

    from tests.portal.fixtures_attendance import NOW

    give_tickets(dupont["family"], meal, 2)
    client.force_login(dupont["user"])
    data = {"children": [dupont["child"].pk], "services": [meals["canteen"].pk],
            "weekdays": ["0", "1", "3"], "start": MONDAY.isoformat(),
            "end": (MONDAY + datetime.timedelta(days=3)).isoformat(), "confirm": "1"}
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:planning_pattern"), data)

    assert Booking.objects.filter(child=dupont["child"]).count() == 2
    message = only_message("dupont@example.org")
    assert message.subject == "Semaine type : le résultat de vos réservations"
    assert "2 jours réservés pour Léa, 1 non réservé :" in message.body
    assert "jeudi 17 septembre (Cantine) : " in message.body



@pytest.mark.parametrize(("accept", "message", "expected"), [
    (True, "", "La mairie a accepté l’absence signalée : Cantine du lundi 14 septembre pour Léa. "
               "Le ticket « Repas » vous est rendu."),
    (False, "Signalée après le repas.", "La mairie a refusé l’absence signalée : Cantine du lundi "
                                        "14 septembre pour Léa. Message de la mairie : Signalée "
                                        "après le repas."),
])
def test_an_absence_report_is_answered_once_by_e_mail_without_its_reason(
        accept, message, expected, meals, dupont, town_agent, on_monday,
        django_capture_on_commit_callbacks):
    book(dupont["child"], meals["canteen"])
    report = attendance.report_absence(dupont["child"], meals["canteen"], MONDAY, "Varicelle",
                                       by=dupont["user"], now=MONDAY_MORNING)
    with django_capture_on_commit_callbacks(execute=True):
        attendance.review_absence(report, accept=accept, by=town_agent, message=message)

    body = only_message("dupont@example.org").body
    assert expected in body
    assert "Varicelle" not in body


def test_file_decisions_are_told_and_a_family_may_switch_them_off(
        family_a, parent_a, requirements, agent, django_capture_on_commit_callbacks):
    from portal.services import dossier
    from tests.portal.conftest import pdf_upload

    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    dossier.accept_regulation(family_a, by=parent_a)
    with django_capture_on_commit_callbacks(execute=True):
        dossier.refuse_item(item, "Document illisible", by=agent)
    refused = only_message("parent.a@example.org")
    assert refused.subject == "Pièce refusée : Attestation d’assurance"
    assert "Document illisible" in refused.body
    assert f"https://famille.example.org{reverse('portal:dossier')}" in refused.body

    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    with django_capture_on_commit_callbacks(execute=True):
        dossier.accept_item(item, by=agent)
        dossier.validate_family(family_a, by=agent)
    assert [m.subject for m in mail.outbox[1:]] == [
        "Pièce acceptée : Attestation d’assurance",
        "Votre dossier est validé : les réservations sont ouvertes"]
    assert list(SentNotification.objects.values_list("kind", flat=True)) == ["file"] * 3

    family_a.email_file = False
    family_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        dossier.refuse_item(item, "Expirée", by=agent)
    assert len(mail.outbox) == 3
