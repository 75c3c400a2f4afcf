"""Waiting lists of full days: sign up, leave, and a freed place given in the list's order."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from portal.cache import display_cache, page_cache
from portal.models import Booking, Family, LedgerEntry, WaitlistEntry
from portal.services import planning_states
from portal.services.booking import (
    BookingRefused,
    book_day,
    cancel_booking,
    fill_from_waitlists,
    join_waitlist,
    leave_waitlist,
)
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def full_day(canteen, meal, martin):
    """The canteen takes one child a day; Martin's Tom has Monday's place."""
    canteen.capacity = 1
    canteen.save()
    give_tickets(martin["family"], meal, 1)
    booking = book_day(martin["child"], canteen, MONDAY, by=martin["user"])
    return booking


@pytest.fixture
def bernard(school):
    user, family, kids = make_family("Bernard", "bernard@example.org", school, children=("Zoé",))
    return {"user": user, "family": family, "child": kids[0]}


def state(child, service, day=MONDAY):
    cell = planning_states.day_states([child], [day], now=NOW).rows[0].cells[(service.pk, day)]
    return cell


def code_of(func, *args, **kwargs):
    with pytest.raises(BookingRefused) as exc:
        func(*args, **kwargs)
    return exc.value.code


def test_a_full_day_offers_its_waiting_list_and_signing_up_takes_no_ticket(dupont, canteen, meal, full_day):
    wallet = give_tickets(dupont["family"], meal, 0)
    assert state(dupont["child"], canteen).state == "full"

    entry = join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])

    wallet.refresh_from_db()
    assert wallet.balance == 0 and not LedgerEntry.objects.filter(wallet=wallet).exists()
    cell = state(dupont["child"], canteen)
    assert cell.state == "waiting" and cell.waiting == (entry.pk, 1)
    assert code_of(join_waitlist, dupont["child"], canteen, MONDAY, by=dupont["user"]) == "waiting"
    # Still full for a booking, and the refusal says the child is waiting.
    give_tickets(dupont["family"], meal, 1)
    assert code_of(book_day, dupont["child"], canteen, MONDAY, by=dupont["user"]) == "waiting"


def test_only_a_full_day_has_a_waiting_list(dupont, canteen, evening, meal, martin):
    canteen.capacity = 2
    canteen.save()
    assert code_of(join_waitlist, dupont["child"], canteen, MONDAY, by=dupont["user"]) == "not_full"
    # A service without a capacity is never full.
    assert code_of(join_waitlist, dupont["child"], evening, MONDAY, by=dupont["user"]) == "not_full"
    # The other rules come first: a day past its deadline has no list to join.
    canteen.capacity = 0
    canteen.save()
    past = datetime.date(2026, 9, 8)  # its booking deadline was Saturday 10:00
    assert code_of(join_waitlist, dupont["child"], canteen, past, by=dupont["user"]) == "deadline"
    assert not WaitlistEntry.objects.exists()


def test_a_cancellation_books_and_pays_the_first_child_of_the_list_and_tells_the_family(
        dupont, bernard, canteen, meal, martin, full_day, django_capture_on_commit_callbacks, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://famille.example.org"
    give_tickets(dupont["family"], meal, 2)
    give_tickets(bernard["family"], meal, 2)
    # Summaries switched off: a place obtained from the list (a ticket used) is told all the same.
    Family.objects.filter(pk=dupont["family"].pk).update(email_bookings=False)
    first = join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    second = join_waitlist(bernard["child"], canteen, MONDAY, by=bernard["user"])
    assert state(bernard["child"], canteen).waiting.position == 2

    with django_capture_on_commit_callbacks(execute=True):
        cancel_booking(full_day, by=martin["user"])

    booking = Booking.objects.get(child=dupont["child"], date=MONDAY, status="active")
    entry = LedgerEntry.objects.get(booking=booking)
    assert entry.quantity == -1 and entry.wallet.balance == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.booking) == ("booked", booking)
    assert second.status == "waiting"
    assert state(bernard["child"], canteen).waiting.position == 1
    assert state(dupont["child"], canteen).state == "booked"
    assert [m.to for m in mail.outbox] == [["dupont@example.org"]]
    assert mail.outbox[0].subject == "Liste d’attente : place obtenue"
    assert ("Une place s’est libérée : Cantine du lundi 14 septembre pour Léa est réservé(e). "
            "Un ticket « Repas » a été utilisé.") in mail.outbox[0].body
    # Martin's ticket came back; Bernard paid nothing.
    assert martin["family"].wallets.get().balance == 1
    assert bernard["family"].wallets.get().balance == 2


def test_a_family_without_a_ticket_is_passed_over_and_keeps_its_place_in_the_list(
        dupont, bernard, canteen, meal, martin, full_day):
    give_tickets(bernard["family"], meal, 1)
    first = join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    join_waitlist(bernard["child"], canteen, MONDAY, by=bernard["user"])

    cancel_booking(full_day, by=martin["user"])

    assert Booking.objects.get(date=MONDAY, status="active").child == bernard["child"]
    first.refresh_from_db()
    assert first.status == "waiting" and not first.booking
    assert state(dupont["child"], canteen).waiting.position == 1
    assert not LedgerEntry.objects.filter(wallet__family=dupont["family"]).exists()


def test_when_nobody_on_the_list_has_a_ticket_the_place_is_free_for_anyone(
        dupont, bernard, canteen, meal, martin, full_day):
    join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    cancel_booking(full_day, by=martin["user"])
    assert not Booking.objects.filter(date=MONDAY, status="active").exists()
    # The waiting child's family buys a ticket: its day is bookable, and booking ends its wait.
    give_tickets(dupont["family"], meal, 1)
    assert state(dupont["child"], canteen).state == "available"
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"])
    entry = WaitlistEntry.objects.get()
    assert (entry.status, entry.booking) == ("booked", booking)


def test_a_child_taken_off_the_list_gets_no_place(dupont, canteen, meal, martin, full_day):
    give_tickets(dupont["family"], meal, 1)
    entry = join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    leave_waitlist(entry, by=dupont["user"])
    assert code_of(leave_waitlist, entry, by=dupont["user"]) == "not_waiting"

    cancel_booking(full_day, by=martin["user"])

    assert not Booking.objects.filter(date=MONDAY, status="active").exists()
    assert dupont["family"].wallets.get().balance == 1
    assert state(dupont["child"], canteen).state == "available"


def test_a_place_that_cannot_be_booked_any_more_is_not_given(dupont, canteen, meal, martin, agent, full_day):
    give_tickets(dupont["family"], meal, 1)
    join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    # Sunday: the booking deadline (Saturday 10:00) is gone; an agent cancels Tom's day.
    sunday = datetime.datetime(2026, 9, 13, 9, 0, tzinfo=NOW.tzinfo)
    cancel_booking(full_day, by=agent, refund=True, now=sunday)
    assert not Booking.objects.filter(date=MONDAY, status="active").exists()
    assert dupont["family"].wallets.get().balance == 1


def test_an_agents_cancellation_gives_the_place_too(admin_client, dupont, canteen, meal, full_day,
                                                   django_capture_on_commit_callbacks):
    give_tickets(dupont["family"], meal, 1)
    join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("reservations:edit", args=[full_day.pk]),
                          {"refund": "yes", "reason": "Sortie scolaire"})
    assert Booking.objects.get(date=MONDAY, status="active").child == dupont["child"]
    assert sorted(m.subject for m in mail.outbox) == ["Liste d’attente : place obtenue",
                                                      "Réservation annulée par la mairie"]


def test_a_higher_capacity_books_the_lists_first_children_with_a_ticket_in_order(
        dupont, bernard, canteen, meal, martin, full_day, school, django_capture_on_commit_callbacks):
    give_tickets(dupont["family"], meal, 1)
    give_tickets(bernard["family"], meal, 1)
    _user, roux, (roux_child,) = make_family("Roux", "roux@example.org", school, children=("Noé",))
    first = join_waitlist(roux_child, canteen, MONDAY, by=_user)  # no ticket: keeps its place
    join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    join_waitlist(bernard["child"], canteen, MONDAY, by=bernard["user"])
    canteen.capacity = 2
    canteen.save()

    with django_capture_on_commit_callbacks(execute=True):
        made = fill_from_waitlists(canteen)

    # One new place: the first child whose family has a ticket, told by e-mail.
    assert [b.child for b in made] == [dupont["child"]]
    assert Booking.objects.filter(service=canteen, date=MONDAY, status="active").count() == 2
    assert [m.to for m in mail.outbox] == [["dupont@example.org"]]
    first.refresh_from_db()
    assert first.status == "waiting" and state(roux_child, canteen).waiting.position == 1
    assert state(bernard["child"], canteen).waiting.position == 2
    # No capacity any more: everyone left on the list with a ticket gets the day.
    canteen.capacity = None
    canteen.save()
    assert [b.child for b in fill_from_waitlists(canteen)] == [bernard["child"]]
    assert bernard["family"].wallets.get().balance == 0


def service_form(service, capacity):
    return {"name": service.name, "schools": [s.pk for s in service.schools.all()],
            "ticket_type": service.ticket_type_id, "weekday_choices": list(service.weekdays), "weekdays": "",
            "start": service.start.isoformat(), "end": service.end.isoformat(), "capacity": capacity,
            "order": str(service.order), "booking_rule": service.booking_rule,
            "booking_days": str(service.booking_days), "booking_weekday": str(service.booking_weekday),
            "booking_time": service.booking_time.strftime("%H:%M"), "cancel_rule": service.cancel_rule,
            "cancel_days": str(service.cancel_days), "cancel_weekday": str(service.cancel_weekday),
            "cancel_time": service.cancel_time.strftime("%H:%M"),
            "unbooked_penalty": str(service.unbooked_penalty), "sick_rule": service.sick_rule}


def test_an_agent_raising_the_capacity_gives_the_new_places_to_the_waiting_list(
        admin_client, dupont, bernard, canteen, meal, full_day, django_capture_on_commit_callbacks):
    give_tickets(dupont["family"], meal, 1)
    give_tickets(bernard["family"], meal, 1)
    join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    join_waitlist(bernard["child"], canteen, MONDAY, by=bernard["user"])
    url = reverse("prestations:edit", args=[canteen.pk])

    with django_capture_on_commit_callbacks(execute=True):  # the same capacity: nothing given
        assert admin_client.post(url, service_form(canteen, "1")).status_code == 302
    assert WaitlistEntry.objects.filter(status="waiting").count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, service_form(canteen, "2")).status_code == 302
    assert Booking.objects.get(date=MONDAY, status="active", child__family=dupont["family"])
    assert state(bernard["child"], canteen).waiting.position == 1


# The planning page ---------------------------------------------------------------------------

def page(client, child):
    response = client.get(reverse("portal:planning_child", args=[child.pk]) + "?semaine=2026-09-14")
    assert response.status_code == 200
    return response.content.decode()


JOIN = ('aria-label="Cantine Complet liste d’attente — '
        'Complet : inscrire Léa sur la liste d’attente de Cantine le lundi 14 septembre"')
LEAVE = ('aria-label="Cantine En liste d’attente n° 1 quitter la liste — '
         'Quitter la liste d’attente de Cantine le lundi 14 septembre pour Léa (n° 1)"')


def test_the_planning_offers_the_list_then_says_the_childs_place_in_text_and_icon(
        logged_dupont, dupont, canteen, meal, full_day):
    html = page(logged_dupont, dupont["child"])
    assert JOIN in html and 'name="waitlist"' in html and "#i-full" in html

    response = logged_dupont.post(reverse("portal:planning_act"), {
        "waitlist": f"{dupont['child'].pk}:{canteen.pk}:{MONDAY}", "scope": f"child:{dupont['child'].pk}",
        "semaine": "2026-09-14"}, follow=True)
    html = response.content.decode()
    assert "Léa est sur la liste d’attente : Cantine, 14/09/2026." in html
    assert LEAVE in html and "En liste d’attente" in html and "n° 1" in html and "#i-hourglass" in html

    entry = WaitlistEntry.objects.get()
    response = logged_dupont.post(reverse("portal:planning_act"), {
        "leave_waitlist": entry.pk, "scope": f"child:{dupont['child'].pk}", "semaine": "2026-09-14"},
        follow=True)
    html = response.content.decode()
    assert "Léa ne figure plus sur la liste d’attente : Cantine, 14/09/2026." in html
    assert JOIN in html
    entry.refresh_from_db()
    assert entry.status == "left"


def test_htmx_sign_up_answers_the_planning_region(logged_dupont, dupont, canteen, meal, full_day):
    response = logged_dupont.post(reverse("portal:planning_act"), {
        "waitlist": f"{dupont['child'].pk}:{canteen.pk}:{MONDAY}", "scope": f"child:{dupont['child'].pk}",
        "semaine": "2026-09-14"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and LEAVE in html


def test_another_familys_list_entry_or_child_is_a_404(client, dupont, martin, canteen, meal, full_day):
    entry = join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    client.force_login(martin["user"])
    response = client.post(reverse("portal:planning_act"), {"leave_waitlist": entry.pk})
    assert response.status_code == 404
    response = client.post(reverse("portal:planning_act"),
                           {"waitlist": f"{dupont['child'].pk}:{canteen.pk}:{MONDAY}"})
    assert response.status_code == 404
    entry.refresh_from_db()
    assert entry.status == "waiting"


def test_bad_waitlist_input_is_a_message_or_a_404_never_a_500(logged_dupont, dupont, canteen, full_day):
    response = logged_dupont.post(reverse("portal:planning_act"), {"waitlist": "nope"}, follow=True)
    assert "Demande incomplète" in response.content.decode()
    assert logged_dupont.post(reverse("portal:planning_act"), {"leave_waitlist": "x"}).status_code == 404
    assert logged_dupont.post(reverse("portal:planning_act"), {"leave_waitlist": "999999"}).status_code == 404


def test_a_kept_page_shows_a_place_moving_up_the_list_at_once(client, dupont, bernard, canteen, meal,
                                                              full_day, settings, monkeypatch):
    settings.PREAU_SHARED_CACHE = True
    monkeypatch.setattr(page_cache, "_pages", {})
    monkeypatch.setattr(page_cache, "_size", 0)
    monkeypatch.setattr(display_cache, "_local", {})
    cache.clear()
    first = join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    join_waitlist(bernard["child"], canteen, MONDAY, by=bernard["user"])
    client.force_login(bernard["user"])
    assert "n° 2" in page(client, bernard["child"])
    leave_waitlist(first, by=dupont["user"])  # another family's change
    html = page(client, bernard["child"])
    assert "n° 1" in html and "n° 2" not in html


def test_an_entry_still_waiting_once_its_day_has_passed_is_shown_as_expired(dupont, canteen, full_day):
    entry = join_waitlist(dupont["child"], canteen, MONDAY, by=dupont["user"])
    label = WaitlistEntry.state_label
    assert label(entry.status, entry.date, MONDAY) == "En attente"
    assert label(entry.status, entry.date, MONDAY + datetime.timedelta(days=1)) == (
        "Expirée (le jour est passé sans place libre)")
    # A place obtained or a child taken off the list keeps its own state after the day.
    assert label("booked", entry.date, MONDAY + datetime.timedelta(days=1)) == "Place obtenue"
