"""Sick child, same morning: the family reports, an agent accepts (ticket back) or refuses."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from portal.models import AbsenceReport, LedgerEntry, Service, Wallet
from portal.services import attendance
from portal.services.wallet import find_inconsistencies
from tests.portal.conftest import PDF_BYTES
from tests.portal.fixtures_attendance import *  # noqa: F403
from tests.portal.fixtures_attendance import MONDAY, MONDAY_MORNING, book

pytestmark = pytest.mark.django_db
TUESDAY = MONDAY + datetime.timedelta(days=1)
FRIDAY = MONDAY + datetime.timedelta(days=4)


def certificate():
    return SimpleUploadedFile("certificat.pdf", PDF_BYTES, content_type="application/pdf")


def report(client, child, service, day=MONDAY, reason="Fièvre", **extra):
    return client.post(reverse("portal:absences"), {"child": child.pk, "service": service.pk,
                                                     "date": day.isoformat(), "reason": reason, **extra})


def balance(family, ticket_type):
    return Wallet.objects.get(family=family, ticket_type=ticket_type).balance


@pytest.fixture
def sick_dupont(meals, dupont, logged_dupont, on_monday):
    book(dupont["child"], meals["canteen"])
    return logged_dupont


def test_a_family_reports_a_sick_child_the_same_morning_and_the_agent_gives_the_ticket_back(
        sick_dupont, meals, dupont, meal, town_agent):
    client = Client()  # the agent's browser; sick_dupont stays the family's
    response = report(sick_dupont, dupont["child"], meals["canteen"], certificate=certificate())
    assert response.status_code == 302
    r = AbsenceReport.objects.get()
    assert r.state == "pending" and r.certificate and r.certificate_type == "application/pdf"
    assert "En attente" in sick_dupont.get(reverse("portal:absences")).content.decode()

    client.force_login(town_agent)
    queue = client.get(reverse("staff:absences")).content.decode()
    assert "Fièvre" in queue and "voir le certificat" in queue
    client.post(reverse("staff:absence_review", args=[r.pk]), {"decision": "accept"})

    r.refresh_from_db()
    assert r.state == "accepted" and r.refunded and balance(dupont["family"], meal) == 1
    assert LedgerEntry.objects.get(kind="excuse").attendance.child == dupont["child"]
    assert find_inconsistencies() == []
    page = sick_dupont.get(reverse("portal:absences")).content.decode()
    assert "Acceptée" in page and "ticket rendu" in page


def test_a_refusal_needs_a_message_that_the_family_then_reads(sick_dupont, meals, dupont, meal, town_agent):
    client = Client()
    report(sick_dupont, dupont["child"], meals["canteen"])
    r = AbsenceReport.objects.get()
    client.force_login(town_agent)

    client.post(reverse("staff:absence_review", args=[r.pk]), {"decision": "refuse", "message": " "})
    r.refresh_from_db()
    assert r.state == "pending"
    client.post(reverse("staff:absence_review", args=[r.pk]),
                {"decision": "refuse", "message": "Signalée après le repas."})

    r.refresh_from_db()
    assert r.state == "refused" and not r.refunded and balance(dupont["family"], meal) == 0
    assert "Signalée après le repas." in sick_dupont.get(reverse("portal:absences")).content.decode()


def test_one_report_per_child_service_and_day(sick_dupont, meals, dupont):
    report(sick_dupont, dupont["child"], meals["canteen"])
    page = report(sick_dupont, dupont["child"], meals["canteen"], reason="Encore").content.decode()
    assert "Une absence est déjà signalée pour cet enfant ce jour-là." in page
    assert AbsenceReport.objects.count() == 1


def test_a_day_still_cancellable_is_cancelled_in_the_planning_instead(sick_dupont, meals, dupont):
    book(dupont["child"], meals["canteen"], FRIDAY)
    page = report(sick_dupont, dupont["child"], meals["canteen"], FRIDAY).content.decode()
    assert "Ce jour peut encore être annulé dans le planning" in page
    assert not AbsenceReport.objects.exists()


def test_a_day_not_booked_or_past_is_refused(sick_dupont, meals, dupont):
    not_booked = report(sick_dupont, dupont["child"], meals["evening"])
    assert "Ce jour n’est pas réservé" in not_booked.content.decode()
    past = report(sick_dupont, dupont["child"], meals["canteen"], MONDAY - datetime.timedelta(days=3))
    assert "au plus tard le jour même" in past.content.decode()
    assert not AbsenceReport.objects.exists()


def test_a_certificate_is_checked_like_the_file_uploads(sick_dupont, meals, dupont):
    fake = SimpleUploadedFile("certificat.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    page = report(sick_dupont, dupont["child"], meals["canteen"], certificate=fake).content.decode()
    assert "Seuls les fichiers PDF, JPEG ou PNG sont acceptés" in page
    assert not AbsenceReport.objects.exists()


def test_another_family_cannot_report_for_a_child_not_theirs(meals, dupont, martin, client, on_monday):
    book(dupont["child"], meals["canteen"])
    client.force_login(martin["user"])
    page = report(client, dupont["child"], meals["canteen"]).content.decode()
    assert not AbsenceReport.objects.exists()
    assert "Sélectionnez un choix valide" in page


def test_the_certificate_is_private(sick_dupont, meals, dupont, martin, animateur, client):
    report(sick_dupont, dupont["child"], meals["canteen"], certificate=certificate())
    url = reverse("portal:absence_certificate", args=[AbsenceReport.objects.get().pk])
    assert sick_dupont.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(martin["user"])
    assert client.get(url).status_code == 404
    client.force_login(animateur)
    assert client.get(url).status_code == 404
    assert client.get(reverse("staff:absences")).status_code == 404


def test_from_the_second_day_with_a_certificate_rule(meals, dupont, meal, town_agent, on_monday):
    Service.objects.filter(pk=meals["canteen"].pk).update(sick_rule=Service.SickRule.SECOND_DAY_CERTIFICATE)
    canteen = Service.objects.get(pk=meals["canteen"].pk)
    by = dupont["user"]
    for day in (MONDAY, TUESDAY):
        book(dupont["child"], canteen, day)
    first = attendance.report_absence(dupont["child"], canteen, MONDAY, "Varicelle", by=by,
                                      now=MONDAY_MORNING)
    tuesday_morning = MONDAY_MORNING + datetime.timedelta(days=1)
    second = attendance.report_absence(dupont["child"], canteen, TUESDAY, "Varicelle", by=by,
                                       certificate=certificate(), now=tuesday_morning)

    first = attendance.review_absence(first, accept=True, by=town_agent, now=tuesday_morning)
    second = attendance.review_absence(second, accept=True, by=town_agent, now=tuesday_morning)

    assert not first.refunded and "à partir du 2e jour" in first.response
    assert second.refunded and balance(dupont["family"], meal) == 1
    assert find_inconsistencies() == []


def test_a_report_is_reviewed_once(sick_dupont, meals, dupont, town_agent):
    report(sick_dupont, dupont["child"], meals["canteen"])
    r = AbsenceReport.objects.get()
    attendance.review_absence(r, accept=True, by=town_agent)
    with pytest.raises(attendance.RollCallError, match="déjà été traitée"):
        attendance.review_absence(r, accept=True, by=town_agent)
    assert LedgerEntry.objects.filter(kind="excuse").count() == 1


def test_the_accepted_absence_shows_on_the_roll_call(sick_dupont, meals, dupont, school, town_agent, client):
    report(sick_dupont, dupont["child"], meals["canteen"])
    attendance.review_absence(AbsenceReport.objects.get(), accept=True, by=town_agent)
    client.force_login(town_agent)
    page = client.get(reverse("staff:roll_call", args=[MONDAY.isoformat(), school.pk,
                                                       meals["canteen"].pk])).content.decode()
    assert "absence excusée, ticket rendu" in page


def test_the_day_list_and_the_roll_call_say_absence_signalee_while_a_report_waits(
        sick_dupont, meals, dupont, martin, school, animateur, town_agent):
    book(martin["child"], meals["canteen"])
    report(sick_dupont, dupont["child"], meals["canteen"])
    staff = Client()
    staff.force_login(animateur)
    args = [MONDAY.isoformat(), school.pk, meals["canteen"].pk]

    def badges():
        found = {}
        for name in ("staff:day_list", "staff:roll_call"):
            html = staff.get(reverse(name, args=args)).content.decode()
            found[name] = [line for line in html.splitlines() if "absence signalée" in line]
        return found

    waiting = badges()
    for lines in waiting.values():
        assert len(lines) == 1, lines  # Léa only, not Tom
    assert "Dupont Léa" in waiting["staff:day_list"][0]
    attendance.review_absence(AbsenceReport.objects.get(), accept=False, by=town_agent, message="Non")
    assert badges() == {"staff:day_list": [], "staff:roll_call": []}
