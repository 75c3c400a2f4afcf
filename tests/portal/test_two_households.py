"""A child of separated parents in two households: each books and pays its own days, sees the
other's as « Réservé par l’autre foyer » and nothing more, and cannot book or cancel them."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from portal.models import AuditLog, Booking, Closure, LedgerEntry, Service, WaitlistEntry
from portal.services import dossier, planning_states
from portal.services.booking import BookingRefused, book_day, cancel_booking, join_waitlist
from portal.services.closures import apply_closure
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db
TUESDAY = MONDAY + datetime.timedelta(days=1)
OTHER = "Réservé par l’autre foyer"


@pytest.fixture
def durand(school, dupont):
    """Léa's second household (her father's): its own guardian, wallet and file; Léa is the
    Duponts' child and its second household's."""
    user, family, _kids = make_family("Durand", "durand@example.org", school, children=())
    child = dupont["child"]
    child.other_family = family
    child.save()
    return {"user": user, "family": family, "child": child}


def lea_for(household, dupont):
    from portal.models import Child

    return Child.objects.select_related("family", "school").get(pk=dupont["child"].pk).seen_by(household)


def cell(household, dupont, service, day):
    planning = planning_states.day_states([lea_for(household, dupont)], [day], now=NOW, family=household)
    return planning.rows[0].cells[(service.pk, day)]


def test_each_household_books_and_pays_its_own_days_from_its_own_wallet(dupont, durand, canteen, meal):
    mum = give_tickets(dupont["family"], meal, 3)
    dad = give_tickets(durand["family"], meal, 3)
    monday = book_day(lea_for(dupont["family"], dupont), canteen, MONDAY, by=dupont["user"], now=NOW)
    tuesday = book_day(lea_for(durand["family"], dupont), canteen, TUESDAY, by=durand["user"], now=NOW)
    mum.refresh_from_db()
    dad.refresh_from_db()
    assert (mum.balance, dad.balance) == (2, 2)
    assert (monday.family, tuesday.family) == (dupont["family"], durand["family"])
    assert LedgerEntry.objects.get(booking=tuesday).wallet == dad


def test_the_other_household_sees_only_reserve_par_l_autre_foyer_and_cannot_book_it(
        dupont, durand, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    dad = give_tickets(durand["family"], meal, 3)
    book_day(lea_for(dupont["family"], dupont), canteen, MONDAY, by=dupont["user"], now=NOW)

    seen = cell(durand["family"], dupont, canteen, MONDAY)
    assert (seen.state, seen.label, seen.booking) == ("other_household", OTHER, None)
    assert cell(dupont["family"], dupont, canteen, MONDAY).state == "booked"
    with pytest.raises(BookingRefused) as exc:
        book_day(lea_for(durand["family"], dupont), canteen, MONDAY, by=durand["user"], now=NOW)
    assert (exc.value.code, exc.value.message) == ("other_household", f"{OTHER}.")
    dad.refresh_from_db()
    assert dad.balance == 3
    assert Booking.objects.filter(date=MONDAY).count() == 1


def test_the_other_households_day_comes_first_in_the_rules(dupont, durand, canteen):
    facts = planning_states.DayFacts(False, None, None, "", True, False, False, True, False, False,
                                     other_household=True)
    assert planning_states.day_rules(facts) == ("other_household", "")


def test_a_household_that_is_not_the_childs_cannot_book_for_it(dupont, durand, martin, canteen, meal):
    give_tickets(martin["family"], meal, 3)
    with pytest.raises(PermissionDenied):
        book_day(dupont["child"], canteen, MONDAY, by=martin["user"], family=martin["family"], now=NOW)
    with pytest.raises(ValueError):
        dupont["child"].seen_by(martin["family"])
    assert not Booking.objects.exists()


def test_cancelling_gives_the_ticket_back_to_the_household_that_paid(dupont, durand, canteen, meal, agent):
    mum = give_tickets(dupont["family"], meal, 1)
    dad = give_tickets(durand["family"], meal, 1)
    theirs = book_day(lea_for(durand["family"], dupont), canteen, TUESDAY, by=durand["user"], now=NOW)
    hers = book_day(lea_for(dupont["family"], dupont), canteen, MONDAY, by=dupont["user"], now=NOW)
    cancel_booking(theirs, by=durand["user"], now=NOW)
    cancel_booking(hers, by=agent, refund=True, now=NOW)
    mum.refresh_from_db()
    dad.refresh_from_db()
    assert (mum.balance, dad.balance) == (1, 1)
    assert LedgerEntry.objects.filter(booking=theirs, kind="cancellation").get().wallet == dad


def test_in_the_planning_the_other_household_can_neither_cancel_nor_double_book(
        client, dupont, durand, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    give_tickets(durand["family"], meal, 3)
    hers = book_day(lea_for(dupont["family"], dupont), canteen, MONDAY, by=dupont["user"], now=NOW)
    client.force_login(durand["user"])
    url = reverse("portal:planning_child", args=[dupont["child"].pk])
    with time_machine.travel(NOW, tick=False):
        page = client.get(url, {"mois": "2026-09"}).content.decode()
        assert OTHER in page
        assert f'value="{hers.pk}"' not in page  # no cancel button on the mother's booking
        assert "Famille Dupont" not in page and "dupont@example.org" not in page  # not who booked
        cancel = client.post(reverse("portal:planning_act"), {"cancel": hers.pk, "mois": "2026-09"})
        book = client.post(reverse("portal:planning_act"), {
            "book": f"{dupont['child'].pk}:{canteen.pk}:{MONDAY.isoformat()}", "mois": "2026-09",
            "scope": f"child:{dupont['child'].pk}"}, follow=True)
    assert cancel.status_code == 404
    hers.refresh_from_db()
    assert hers.is_active
    assert f"{OTHER}." in book.content.decode()
    assert Booking.objects.filter(date=MONDAY).count() == 1


def test_a_closure_refunds_and_tells_the_household_that_booked(dupont, durand, canteen, meal, agent,
                                                               django_capture_on_commit_callbacks):
    mum = give_tickets(dupont["family"], meal, 1)
    dad = give_tickets(durand["family"], meal, 1)
    book_day(lea_for(durand["family"], dupont), canteen, TUESDAY, by=durand["user"], now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        closure = Closure.objects.create(kind=Closure.Kind.ONE_OFF, start=TUESDAY, end=TUESDAY,
                                         reason="Grève")
        apply_closure(closure, by=agent, now=NOW)
    mum.refresh_from_db()
    dad.refresh_from_db()
    assert (mum.balance, dad.balance) == (1, 1)
    assert [m.to for m in mail.outbox] == [["durand@example.org"]]


def test_a_freed_place_goes_to_the_household_that_signed_up_and_it_pays(
        dupont, durand, martin, school, meal, django_capture_on_commit_callbacks):
    workshop = Service.objects.create(name="Atelier", weekdays="0", start=datetime.date(2026, 9, 1),
                                      end=datetime.date(2027, 7, 3), ticket_type=meal, capacity=1,
                                      booking_days=1, cancel_days=1)
    workshop.schools.add(school)
    give_tickets(martin["family"], meal, 1)
    mum = give_tickets(dupont["family"], meal, 1)
    dad = give_tickets(durand["family"], meal, 1)
    taken = book_day(martin["child"], workshop, MONDAY, by=martin["user"], now=NOW)
    entry = join_waitlist(lea_for(durand["family"], dupont), workshop, MONDAY, by=durand["user"], now=NOW)
    assert entry.family == durand["family"]
    assert cell(dupont["family"], dupont, workshop, MONDAY).state == "full"  # the father's entry, not hers
    with django_capture_on_commit_callbacks(execute=True):
        cancel_booking(taken, by=martin["user"], now=NOW)
    given = Booking.objects.get(child=dupont["child"], service=workshop, status="active")
    mum.refresh_from_db()
    dad.refresh_from_db()
    assert (given.family, mum.balance, dad.balance) == (durand["family"], 1, 0)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "booked"
    assert mail.outbox[-1].to == ["durand@example.org"]


def test_the_other_households_waiting_entry_ends_when_one_household_books_the_day(
        dupont, durand, martin, bernard_zoe, school, meal, django_capture_on_commit_callbacks):
    """The father signed Léa up for a full day; a place comes free, he has no ticket, the mother
    books it. His entry ends (Léa has her place, « Place obtenue »), his planning says « Réservé
    par l’autre foyer », and the next place freed goes to the next child on the list, not to an
    entry whose child is booked already."""
    workshop = Service.objects.create(name="Atelier", weekdays="0", start=datetime.date(2026, 9, 1),
                                      end=datetime.date(2027, 7, 3), ticket_type=meal, capacity=1,
                                      booking_days=1, cancel_days=1)
    workshop.schools.add(school)
    give_tickets(martin["family"], meal, 1)
    give_tickets(dupont["family"], meal, 1)
    taken = book_day(martin["child"], workshop, MONDAY, by=martin["user"], now=NOW)
    entry = join_waitlist(lea_for(durand["family"], dupont), workshop, MONDAY, by=durand["user"], now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_booking(taken, by=martin["user"], now=NOW)  # the father has no ticket: passed over
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "waiting"
    mums = book_day(lea_for(dupont["family"], dupont), workshop, MONDAY, by=dupont["user"], now=NOW)
    entry.refresh_from_db()
    assert (entry.status, entry.booking, entry.ended_at) == ("booked", mums, NOW)
    assert entry.get_status_display() == "Place obtenue"
    assert cell(durand["family"], dupont, workshop, MONDAY).state == "other_household"
    # Zoé waits next; when the mother cancels, the place is Zoé's (the father now has a ticket,
    # but his entry ended with Léa's place).
    give_tickets(durand["family"], meal, 1)
    give_tickets(bernard_zoe["family"], meal, 1)
    zoe = join_waitlist(bernard_zoe["child"], workshop, MONDAY, by=bernard_zoe["user"], now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_booking(mums, by=dupont["user"], now=NOW)
    given = Booking.objects.get(service=workshop, date=MONDAY, status="active")
    assert (given.child, given.family) == (bernard_zoe["child"], bernard_zoe["family"])
    assert WaitlistEntry.objects.get(pk=zoe.pk).status == "booked"


@pytest.fixture
def bernard_zoe(school):
    user, family, kids = make_family("Bernard", "bernard@example.org", school, children=("Zoé",))
    return {"user": user, "family": family, "child": kids[0]}


def test_an_absence_is_reported_by_the_household_whose_day_it_is(dupont, durand, canteen, meal, agent):
    from portal.services import attendance

    give_tickets(durand["family"], meal, 1)
    book_day(lea_for(durand["family"], dupont), canteen, MONDAY, by=durand["user"], now=NOW)
    late = datetime.datetime.combine(MONDAY, datetime.time(8), tzinfo=NOW.tzinfo)
    with pytest.raises(attendance.RollCallError):
        attendance.report_absence(lea_for(dupont["family"], dupont), canteen, MONDAY, "Fièvre",
                                  by=dupont["user"], now=late)
    report = attendance.report_absence(lea_for(durand["family"], dupont), canteen, MONDAY, "Fièvre",
                                       by=durand["user"], now=late)
    assert report.family == durand["family"]


def test_an_agent_attaches_a_second_household_and_both_journals_say_so(agent_client_two, dupont, martin):
    child = dupont["child"]
    response = agent_client_two.post(reverse("portal_children:edit", args=[child.pk]), {
        "family": dupont["family"].pk, "other_family": martin["family"].pk, "first_name": child.first_name,
        "last_name": child.last_name, "birth_date": "2018-01-01", "school": child.school.pk})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.other_family == martin["family"]
    assert AuditLog.objects.get(action="child.edit", family=dupont["family"]).after == {
        "other_family": "Famille Martin"}
    assert AuditLog.objects.filter(action="child.second_household", family=martin["family"]).exists()


def test_a_child_cannot_be_its_own_familys_second_household(agent_client_two, dupont):
    child = dupont["child"]
    response = agent_client_two.post(reverse("portal_children:edit", args=[child.pk]), {
        "family": dupont["family"].pk, "other_family": dupont["family"].pk, "first_name": child.first_name,
        "last_name": child.last_name, "birth_date": "2018-01-01", "school": child.school.pk})
    assert response.status_code == 200
    assert "Le second foyer doit être un autre foyer" in response.content.decode()
    child.refresh_from_db()
    assert child.other_family is None


@pytest.fixture
def agent_client_two(client, agent):
    client.force_login(agent)
    return client


def test_the_second_households_file_opens_its_bookings_with_only_the_shared_child(durand):
    # Durand has no child of its own: the shared child is enough for a file.
    assert dossier.bookings_open(durand["family"])


def test_the_second_households_planning_runs_the_same_pinned_queries(client, dupont, durand, canteen, meal,
                                                                      evening, django_assert_num_queries):
    from django.core.cache import cache

    give_tickets(dupont["family"], meal, 3)
    give_tickets(durand["family"], meal, 3)
    book_day(lea_for(dupont["family"], dupont), canteen, MONDAY, by=dupont["user"], now=NOW)
    book_day(lea_for(durand["family"], dupont), canteen, TUESDAY, by=durand["user"], now=NOW)
    client.force_login(durand["user"])
    month = reverse("portal:planning") + "?mois=2026-09"
    child = reverse("portal:planning_child", args=[dupont["child"].pk]) + "?mois=2026-09"
    # As test_planning_views pins for any family: session, user, the household's children
    # (household and school joined: the shared child too), bookings/counts/wallet in one query.
    with time_machine.travel(NOW, tick=False):
        for url in (month, child):
            client.get(url)
            with django_assert_num_queries(4):
                page = client.get(url).content.decode()
            assert page.count('class="st-other_household"') == 1 and page.count('name="cancel"') == 1
        cache.clear()
        with django_assert_num_queries(4 + 7):  # the same fixed extra as any family's page
            client.get(month)
