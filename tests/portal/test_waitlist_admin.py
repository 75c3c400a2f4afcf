"""The agents' listing of the waiting lists (Planning → Listes d’attente): who waits for which
full day and in which position, what became of past entries, and taking a child off a list at
the family's request."""

import csv
import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import AuditLog, Booking, Service, WaitlistEntry
from portal.services import planning_states
from portal.services.booking import book_day, join_waitlist
from tests.factories import make_agent, make_editor
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db

INDEX = "listes-attente:index"
PAST = datetime.date(2026, 9, 3)  # a Thursday before NOW
TUESDAY = MONDAY + datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def bernard(other_school):
    user, family, kids = make_family("Bernard", "bernard@example.org", other_school, children=("Zoé",))
    return {"user": user, "family": family, "child": kids[0]}


def entry(who, service, day, status=WaitlistEntry.Status.WAITING, **kwargs):
    """An entry written straight to the table: only the listing is under test here."""
    return WaitlistEntry.objects.create(child=who["child"], family=who["family"], service=service,
                                        date=day, status=status, **kwargs)


def rows(client, **params):
    response = client.get(reverse(INDEX), params)
    assert response.status_code == 200
    return [(e.child.first_name, e.date, e.service.name, e.position, e.current_state_label)
            for e in response.context["object_list"]]


@pytest.fixture
def lists(dupont, martin, bernard, canteen, evening):
    """Monday's canteen list: Bernard's Zoé (other school) first, Martin's Tom left, Dupont's Léa
    second; Tuesday's evening care: Léa; a past day still waiting (expired) and a place given."""
    booking = Booking.objects.create(child=martin["child"], family=martin["family"], service=canteen,
                                     date=TUESDAY)
    return {
        "zoe": entry(bernard, canteen, MONDAY),
        "tom_left": entry(martin, canteen, MONDAY, WaitlistEntry.Status.LEFT),
        "lea": entry(dupont, canteen, MONDAY),
        "lea_evening": entry(dupont, evening, TUESDAY),
        "expired": entry(martin, canteen, PAST),
        "booked": entry(martin, canteen, TUESDAY, WaitlistEntry.Status.BOOKED, booking=booking),
    }


def test_by_default_agents_see_who_still_waits_on_coming_days_in_the_lists_order(agent_client, lists):
    assert rows(agent_client) == [
        ("Zoé", MONDAY, "Cantine", 1, "En attente"),
        ("Léa", MONDAY, "Cantine", 2, "En attente"),
        ("Léa", TUESDAY, "Garderie du soir", 1, "En attente"),
    ]


def test_each_state_has_its_filter_and_a_past_waiting_entry_reads_expired(agent_client, lists):
    assert rows(agent_client, state="expired", start="2026-09-01") == [
        ("Tom", PAST, "Cantine", None, "Expirée (le jour est passé sans place libre)")]
    assert rows(agent_client, state="left") == [("Tom", MONDAY, "Cantine", None, "Retiré de la liste")]
    assert rows(agent_client, state="booked") == [("Tom", TUESDAY, "Cantine", None, "Place obtenue")]
    assert len(rows(agent_client, state="")) == 6
    html = agent_client.get(reverse(INDEX), {"state": "", "start": "2026-09-01"}).content.decode()
    assert "Expirée (le jour est passé sans place libre)" in html
    # The place given links to the booking it made.
    assert reverse("reservations:edit", args=[lists["booked"].booking_id]) in html


def test_filters_narrow_the_rows_but_never_renumber_the_list(agent_client, lists, school, canteen):
    # Léa is second on Monday's list even when her school alone is shown.
    assert rows(agent_client, school=school.pk) == [
        ("Léa", MONDAY, "Cantine", 2, "En attente"), ("Léa", TUESDAY, "Garderie du soir", 1, "En attente")]
    assert rows(agent_client, service=canteen.pk) == [
        ("Zoé", MONDAY, "Cantine", 1, "En attente"), ("Léa", MONDAY, "Cantine", 2, "En attente")]
    assert [r[0] for r in rows(agent_client, day=TUESDAY.isoformat())] == ["Léa"]
    assert [r[0] for r in rows(agent_client, week=MONDAY.isoformat(), state="")] == [
        "Zoé", "Tom", "Léa", "Tom", "Léa"]


def test_agents_find_entries_by_a_childs_or_a_households_name(agent_client, lists):
    assert [r[0] for r in rows(agent_client, q="zoe")] == ["Zoé"]  # accents ignored
    assert [r[0] for r in rows(agent_client, q="Dupond")] == ["Léa", "Léa"]  # a typo tolerated
    assert rows(agent_client, q="Personne") == []


def test_a_bad_date_or_state_is_a_form_message_not_a_500(agent_client, lists):
    response = agent_client.get(reverse(INDEX), {"day": "2026-13-45", "state": "gone"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saisissez une date valide." in html
    assert "Sélectionnez un choix valide. gone n’en fait pas partie." in html


@pytest.fixture
def full_monday(canteen, meal, martin, dupont):
    """Martin's Tom has Monday's only canteen place; Dupont's Léa waits for it (signed up by the
    rules, from her family's planning)."""
    canteen.capacity = 1
    canteen.save()
    give_tickets(martin["family"], meal, 1)
    book_day(martin["child"], canteen, MONDAY, by=martin["user"])
    return join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])


JOIN = ('aria-label="Cantine Complet liste d’attente — '
        'Complet : inscrire Léa sur la liste d’attente de Cantine le lundi 14 septembre"')
LEAVE = ('aria-label="Cantine En liste d’attente n° 1 quitter la liste — '
         'Quitter la liste d’attente de Cantine le lundi 14 septembre pour Léa (n° 1)"')


def family_planning(client, who):
    response = client.get(reverse("portal:planning_child", args=[who["child"].pk]),
                          {"semaine": MONDAY.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


def test_an_agent_takes_a_child_off_a_list_after_a_confirmation(agent_client, agent, full_monday, dupont,
                                                                 canteen):
    family_client = Client()
    family_client.force_login(dupont["user"])
    assert LEAVE in family_planning(family_client, dupont)
    url = reverse("listes-attente:remove", args=[full_monday.pk])
    listing = agent_client.get(reverse(INDEX)).content.decode()
    assert url in listing
    page = agent_client.get(url).content.decode()
    assert "Retirer Léa Dupont (foyer « Famille Dupont ») de la liste d’attente" in page
    assert "place n° 1" in page
    assert WaitlistEntry.objects.get(pk=full_monday.pk).status == "waiting"  # asking changed nothing

    response = agent_client.post(url, follow=True)

    assert "Léa Dupont est retiré(e) de la liste d’attente" in response.content.decode()
    full_monday.refresh_from_db()
    assert full_monday.status == "left" and full_monday.ended_at is not None
    log = AuditLog.objects.get(action="waitlist.leave")
    assert (log.actor, log.family) == (agent, dupont["family"])
    # The family's planning shows the day full again, with no waiting place.
    grid = planning_states.day_states([dupont["child"]], [MONDAY], now=NOW)
    cell = grid.rows[0].cells[(canteen.pk, MONDAY)]
    assert cell.state == "full" and cell.waiting is None
    planning = family_planning(family_client, dupont)
    assert LEAVE not in planning and JOIN in planning


def test_the_family_leaving_its_list_is_journaled_as_the_family(logged_dupont, full_monday, dupont):
    response = logged_dupont.post(reverse("portal:planning_act"), {"leave_waitlist": full_monday.pk})
    assert response.status_code in (200, 302)
    log = AuditLog.objects.get(action="waitlist.leave")
    assert (log.actor, log.family) == (dupont["user"], dupont["family"])


def test_a_removed_expired_or_unknown_entry_gets_a_french_message_never_a_500(agent_client, lists):
    left = reverse("listes-attente:remove", args=[lists["tom_left"].pk])
    assert "n’est plus en liste d’attente" in agent_client.get(left).content.decode()
    response = agent_client.post(left, follow=True)
    assert "L’enfant n’est plus en liste d’attente pour ce jour." in response.content.decode()

    expired = reverse("listes-attente:remove", args=[lists["expired"].pk])
    message = "Ce jour est passé sans qu’une place se libère"
    assert message in agent_client.get(expired).content.decode()
    assert message in agent_client.post(expired, follow=True).content.decode()
    assert WaitlistEntry.objects.get(pk=lists["expired"].pk).status == "waiting"

    for pk in (999999, 2**40):
        response = agent_client.post(reverse("listes-attente:remove", args=[pk]), follow=True)
        assert response.status_code == 200
        assert "Cette inscription en liste d’attente n’existe pas (ou plus)." in response.content.decode()
    assert not AuditLog.objects.filter(action="waitlist.leave").exists()


def test_agents_may_read_and_take_off_but_never_add_or_delete_entries(db):
    agent = make_agent("agent.mairie@example.org")  # in the Agents group, as the migrations set it up
    assert agent.has_perm("portal.view_waitlistentry") and agent.has_perm("portal.change_waitlistentry")
    assert not agent.has_perm("portal.add_waitlistentry")
    assert not agent.has_perm("portal.delete_waitlistentry")


def test_families_staff_anonymous_visitors_and_editors_cannot_reach_the_lists(client, lists, dupont, staff):
    urls = [reverse(INDEX), reverse(INDEX) + "?export=csv",
            reverse("listes-attente:remove", args=[lists["lea"].pk])]
    for url in urls:
        assert client.get(url).status_code == 302  # to the admin's login
        assert client.post(url).status_code == 302
    for user in (dupont["user"], staff):  # a family; periscolar staff (day lists, not the admin)
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("wagtailadmin_login"))
    client.force_login(make_editor())
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert "Zoé" not in response.content.decode()
    assert client.post(urls[2]).status_code in (302, 403)
    assert WaitlistEntry.objects.get(pk=lists["lea"].pk).status == "waiting"


def test_an_agent_without_the_change_permission_reads_the_lists_but_cannot_take_off(client, lists):
    reader = make_agent("lecteur@example.org")
    reader.groups.clear()
    reader.user_permissions.add(Permission.objects.get(codename="access_admin"),
                                Permission.objects.get(codename="view_waitlistentry"))
    client.force_login(reader)
    url = reverse("listes-attente:remove", args=[lists["lea"].pk])
    assert url not in client.get(reverse(INDEX)).content.decode()
    response = client.post(url)
    assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))
    assert WaitlistEntry.objects.get(pk=lists["lea"].pk).status == "waiting"


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_exports_stream_the_listed_rows_with_position_state_and_booking(agent_client, lists):
    response = agent_client.get(reverse(INDEX), {"export": "csv", "state": "", "start": "2026-09-01"})
    assert response.streaming
    header, *lines = csv_rows(response)
    assert header == ["Jour", "Prestation", "Enfant", "École", "Foyer", "Position", "État", "Inscrit le",
                      "Sorti de la liste le", "Réservation obtenue"]
    assert len(lines) == 6
    first = lines[0]
    assert first[:7] == [PAST.isoformat(), "Cantine", "Tom Martin", "École Jules-Ferry", "Famille Martin", "",
                         "Expirée (le jour est passé sans place libre)"]
    assert lines[1][2:7] == ["Zoé Bernard", "École Louise-Michel", "Famille Bernard", "1", "En attente"]
    booked = [line for line in lines if line[6] == "Place obtenue"]
    assert booked[0][9] == f"Réservation n° {lists['booked'].booking_id} (Réservée)"
    xlsx = agent_client.get(reverse(INDEX), {"export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.streaming
    assert xlsx["Content-Disposition"] == 'attachment; filename="listes-attente.xlsx"'
    assert b"".join(xlsx.streaming_content)[:2] == b"PK"


def add_entries(services, families, days, count):
    """`count` entries spread over several services, days and families."""
    made = 0
    for day in days:
        for service in services:
            for who in families:
                if made == count:
                    return
                entry(who, service, day)
                made += 1


def test_the_listing_runs_the_same_queries_for_1_or_30_entries(agent_client, dupont, martin, bernard,
                                                               canteen, evening, school):
    more = [{"family": f, "child": k[0]} for f, k in (
        make_family(f"Famille{n}", f"f{n}@example.org", school)[1:] for n in range(3))]
    families = [dupont, martin, bernard, *more]
    services = [canteen, evening, Service.objects.create(
        name="Mercredi", weekdays="2", start=canteen.start, end=canteen.end, ticket_type=canteen.ticket_type)]
    days = [MONDAY + datetime.timedelta(days=7 * n) for n in range(4)]
    url = reverse(INDEX)
    counts = []
    for total in (1, 30):
        WaitlistEntry.objects.all().delete()
        add_entries(services, families, days, total)
        agent_client.get(url)  # warm the per-process caches (site settings, permissions)
        with CaptureQueriesContext(connection) as context:
            response = agent_client.get(url)
        assert response.context["page_obj"].paginator.count == total
        assert {e.position for e in response.context["object_list"]} == (
            {1} if total == 1 else set(range(1, len(families) + 1)))
        counts.append(len(context.captured_queries))
    assert counts[0] == counts[1], f"{counts[0]} queries for 1 entry, {counts[1]} for 30"


def test_the_familys_file_lists_its_waiting_children_in_constant_queries(agent_client, dupont, canteen,
                                                                         evening, lists):
    url = reverse("portal_families:review", args=[dupont["family"].pk])
    agent_client.get(url)
    with CaptureQueriesContext(connection) as context:
        html = agent_client.get(url).content.decode()
    assert "Listes d’attente" in html
    assert reverse("listes-attente:remove", args=[lists["lea"].pk]) in html
    assert reverse("listes-attente:remove", args=[lists["zoe"].pk]) not in html  # another household
    few = len(context.captured_queries)
    for n in range(2, 6):
        entry(dupont, canteen, MONDAY + datetime.timedelta(days=7 * n))
    with CaptureQueriesContext(connection) as context:
        html = agent_client.get(url).content.decode()
    assert html.count(reverse("listes-attente:index").rstrip("/") + "/retirer/") == 6
    assert len(context.captured_queries) == few
