import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import AttendanceMark, AuditLog, RollCall
from portal.services import attendance
from tests.portal.fixtures_attendance import *  # noqa: F403
from tests.portal.fixtures_attendance import MONDAY, add_children, book

pytestmark = pytest.mark.django_db


def rc_url(school, service, day=MONDAY, name="staff:roll_call"):
    return reverse(name, args=[day.isoformat(), school.pk, service.pk])


def tap(client, school, service, child, status, day=MONDAY):
    return client.post(rc_url(school, service, day, "staff:roll_call_mark"),
                       {"enfant": child.pk, "statut": status})


@pytest.fixture
def rc_client(client, animateur, on_monday):
    client.force_login(animateur)
    return client


def test_one_tap_marks_a_booked_child_present_and_the_page_says_so(meals, school, dupont, rc_client):
    book(dupont["child"], meals["canteen"])

    response = tap(rc_client, school, meals["canteen"], dupont["child"], "present")

    assert response.status_code == 302 and response["Location"].endswith(f"#enfant-{dupont['child'].pk}")
    mark = AttendanceMark.objects.get()
    assert mark.present and mark.booking is not None and mark.created_by.email == "animateur@example.org"
    page = rc_client.get(response["Location"]).content.decode()
    assert "Léa Dupont : présence enregistrée." in page and "✓ présent" in page
    assert "1 présent(s), 0 absent(s), 0 non pointé(s)" in page


def test_the_same_mark_posted_twice_makes_one_record_and_no_correction(meals, school, dupont, rc_client):
    book(dupont["child"], meals["canteen"])

    tap(rc_client, school, meals["canteen"], dupont["child"], "absent")
    tap(rc_client, school, meals["canteen"], dupont["child"], "absent")

    assert AttendanceMark.objects.count() == 1 and RollCall.objects.count() == 1
    assert not AuditLog.objects.filter(action="attendance.correct").exists()


def test_a_correction_keeps_who_and_when_in_the_audit_log(meals, school, dupont, rc_client, town_agent):
    book(dupont["child"], meals["canteen"])
    tap(rc_client, school, meals["canteen"], dupont["child"], "absent")
    rc_client.force_login(town_agent)

    tap(rc_client, school, meals["canteen"], dupont["child"], "present")

    mark = AttendanceMark.objects.get()
    assert mark.present and mark.changed_by == town_agent and mark.created_by.email == "animateur@example.org"
    log = AuditLog.objects.get(action="attendance.correct")
    assert log.actor == town_agent and log.family == dupont["family"]
    assert log.before["present"] is False and log.before["by"] == "Anna" and log.after == {"present": True}


def test_a_child_present_without_booking_is_found_by_name_and_added(meals, school, dupont, martin, rc_client):
    book(dupont["child"], meals["canteen"])

    found = rc_client.get(rc_url(school, meals["canteen"]) + "?q=tom mar").content.decode()
    assert "Ajouter présent" in found and "Martin Tom" in found
    tap(rc_client, school, meals["canteen"], martin["child"], "present")

    mark = AttendanceMark.objects.get(child=martin["child"])
    assert mark.present and mark.booking is None
    page = rc_client.get(rc_url(school, meals["canteen"])).content.decode()
    assert "sans réservation" in page
    assert "1 inscrit · 1 présent(s), 0 absent(s), 1 non pointé(s)" in page


def test_the_search_finds_only_children_of_that_school(meals, school, other_school):
    add_children(other_school, 1, "Ailleurs")
    here = add_children(school, 1, "Ici")
    assert attendance.search_children(school, "enfant") == here
    assert attendance.search_children(school, "e") == []


@pytest.mark.parametrize("query", ["tom martin", "TOM MARTN", "martin"])
def test_the_search_ignores_accents_case_and_a_typo(meals, school, martin, query):
    assert attendance.search_children(school, query) == [martin["child"]]


def test_absent_for_a_child_who_was_not_expected_records_nothing(meals, school, martin, rc_client):
    tap(rc_client, school, meals["canteen"], martin["child"], "absent")
    assert not AttendanceMark.objects.exists()


def test_an_animateur_marks_only_today(meals, school, dupont, rc_client):
    tomorrow = MONDAY + datetime.timedelta(days=1)
    book(dupont["child"], meals["canteen"], tomorrow)

    page = rc_client.get(rc_url(school, meals["canteen"], tomorrow)).content.decode()
    response = tap(rc_client, school, meals["canteen"], dupont["child"], "present", tomorrow)

    assert "L’appel se fait le jour même" in page and "rc-buttons" not in page
    assert "L’appel se fait le jour même." in rc_client.get(response["Location"]).content.decode()
    assert not AttendanceMark.objects.exists()


def test_an_agent_fills_in_a_past_day(meals, school, dupont, client, town_agent, on_monday):
    last_friday = MONDAY - datetime.timedelta(days=3)
    client.force_login(town_agent)
    tap(client, school, meals["canteen"], dupont["child"], "present", last_friday)
    assert AttendanceMark.objects.get().roll_call.date == last_friday


def test_a_closed_roll_call_refuses_marks(meals, school, dupont, rc_client, animateur):
    book(dupont["child"], meals["canteen"])
    RollCall.objects.create(school=school, service=meals["canteen"], date=MONDAY,
                            closed_at=datetime.datetime(2026, 9, 14, 14, 0, tzinfo=datetime.UTC),
                            closed_by=animateur)

    response = tap(rc_client, school, meals["canteen"], dupont["child"], "present")

    assert "L’appel est clos" in rc_client.get(response["Location"]).content.decode()
    assert not AttendanceMark.objects.exists()


def test_bad_input_gets_a_message_and_changes_nothing(meals, school, dupont, rc_client):
    response = rc_client.post(rc_url(school, meals["canteen"], name="staff:roll_call_mark"),
                              {"enfant": "abc", "statut": "peut-être"})
    assert "Choisissez un enfant" in rc_client.get(response["Location"]).content.decode()
    assert not AttendanceMark.objects.exists()


def test_a_child_of_another_school_or_another_school_is_404(meals, school, other_school, rc_client):
    elsewhere = add_children(other_school, 1, "Ailleurs")[0]
    assert tap(rc_client, school, meals["canteen"], elsewhere, "present").status_code == 404
    assert tap(rc_client, other_school, meals["canteen"], elsewhere, "present").status_code == 404
    assert rc_client.get(rc_url(other_school, meals["canteen"])).status_code == 404
    assert not AttendanceMark.objects.exists()


def test_a_family_cannot_reach_the_roll_call(meals, school, dupont, logged_dupont, on_monday):
    assert logged_dupont.get(rc_url(school, meals["canteen"])).status_code == 404
    assert tap(logged_dupont, school, meals["canteen"], dupont["child"], "present").status_code == 404
    assert not AttendanceMark.objects.exists()


def test_the_page_works_without_javascript_plain_forms_and_named_buttons(meals, school, dupont, rc_client):
    book(dupont["child"], meals["canteen"])
    page = rc_client.get(rc_url(school, meals["canteen"])).content.decode()
    assert '<form method="post"' in page and "<script" not in page.split("<main")[1].split("</main>")[0]
    assert 'value="present"' in page and "Présent<span class=\"visually-hidden\"> : Léa Dupont</span>" in page
    assert 'aria-pressed="false"' in page


def test_the_roll_call_page_reads_a_constant_number_of_queries(meals, school, rc_client):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert rc_client.get(rc_url(school, meals["evening"])).status_code == 200
        return len(ctx.captured_queries)

    few = add_children(school, 1, "Un")
    book(few[0], meals["evening"])
    tap(rc_client, school, meals["evening"], few[0], "present")
    count()  # the first page fills the process caches (town settings, planning configuration)
    small = count()
    for kid in add_children(school, 15, "Quinze"):
        book(kid, meals["evening"])
        tap(rc_client, school, meals["evening"], kid, "absent")
    intruders = add_children(school, 3, "Surprise")
    for kid in intruders:
        tap(rc_client, school, meals["evening"], kid, "present")
    assert count() == small + 1  # the pick-up people of the children present without a booking


def test_names_written_by_families_are_escaped_in_the_rows(meals, school, rc_client):
    (child,) = add_children(school, 1, "Gras", allergies="<script>x</script>")
    child.first_name, child.last_name = "Zoé <i>", "Gras & fils"
    child.save()
    book(child, meals["canteen"])
    page = rc_client.get(rc_url(school, meals["canteen"])).content.decode()
    assert "<script>x" not in page and "<i>" not in page
    assert "<strong>Gras &amp; fils Zoé &lt;i&gt;</strong>" in page
