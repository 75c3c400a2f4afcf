import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from portal.models import Booking, Closure, Family, LedgerEntry, Service
from portal.services import deadlines, planning_states
from portal.services.booking import (
    BookingRefused,
    book_day,
    book_pattern,
    cancel_booking,
    pattern_preview,
    refusal_message,
)
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def refused_code(child, service, day, user, now=NOW):
    with pytest.raises(BookingRefused) as exc:
        book_day(child, service, day, by=user, now=now)
    return exc.value.code


def test_booking_a_day_debits_one_ticket_with_a_linked_ledger_entry(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 3)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    wallet.refresh_from_db()
    assert wallet.balance == 2
    entry = LedgerEntry.objects.get(booking=booking)
    assert entry.kind == "booking" and entry.quantity == -1 and entry.by == dupont["user"]


def test_a_validated_family_cannot_book_until_it_accepts_a_new_regulation(dupont, canteen, meal):
    from documents.demo import add_document
    from documents.models import PreauDocument
    from portal.models import FileRequirement, SchoolYear
    from portal.services import dossier
    from tests.portal.conftest import PDF_BYTES

    year = SchoolYear.objects.create(name="2026-2027", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3))
    FileRequirement.objects.create(school_year=year, name="Règlement",
                                   kind=FileRequirement.Kind.REGULATION)
    add_document("Règlement", "r1.pdf", PDF_BYTES, kind=PreauDocument.Kind.REGULATION, version="1")
    dossier.accept_regulation(dupont["family"], by=dupont["user"])
    give_tickets(dupont["family"], meal, 3)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    add_document("Règlement v2", "r2.pdf", PDF_BYTES, kind=PreauDocument.Kind.REGULATION, version="2")
    tuesday = MONDAY + datetime.timedelta(days=1)
    assert refused_code(dupont["child"], canteen, tuesday, dupont["user"]) == "not_validated"
    planning = planning_states.day_states([dupont["child"]], [tuesday], now=NOW)
    assert planning.rows[0].cells[(canteen.pk, tuesday)].state == "not_validated"
    dossier.accept_regulation(dupont["family"], by=dupont["user"])
    assert book_day(dupont["child"], canteen, tuesday, by=dupont["user"], now=NOW).pk


def test_it_refuses_booking_when_the_family_file_is_not_validated(school, canteen, meal):
    user, family, kids = make_family("Roux", "roux@example.org", school, status=Family.Status.SUBMITTED)
    give_tickets(family, meal, 3)
    assert refused_code(kids[0], canteen, MONDAY, user) == "not_validated"


def test_it_refuses_a_service_that_does_not_serve_the_childs_school(other_school, canteen, meal):
    user, family, kids = make_family("Roux", "roux@example.org", other_school)
    give_tickets(family, meal, 3)
    assert refused_code(kids[0], canteen, MONDAY, user) == "not_offered"


def test_it_refuses_a_weekday_the_service_does_not_run(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    wednesday = MONDAY + datetime.timedelta(days=2)
    assert refused_code(dupont["child"], canteen, wednesday, dupont["user"]) == "not_offered"


def test_it_refuses_a_day_outside_the_opening_period(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    assert refused_code(dupont["child"], canteen, datetime.date(2027, 7, 5), dupont["user"],
                        now=NOW) == "not_offered"


def test_it_refuses_a_public_holiday(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    easter_monday = datetime.date(2027, 3, 29)
    assert refused_code(dupont["child"], canteen, easter_monday, dupont["user"]) == "holiday"


def test_it_refuses_a_day_closed_for_the_whole_town(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY)
    with pytest.raises(BookingRefused) as exc:
        book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    assert exc.value.code == "closed" and "Grève" in exc.value.message


def test_a_closure_of_another_school_or_service_does_not_block(dupont, canteen, evening, other_school,
                                                               meal):
    give_tickets(dupont["family"], meal, 3)
    Closure.objects.create(reason="Sortie", start=MONDAY, end=MONDAY, school=other_school)
    Closure.objects.create(reason="Travaux", start=MONDAY, end=MONDAY, service=evening)
    assert book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW).is_active


def test_a_closure_of_this_school_and_service_blocks(dupont, canteen, school, meal):
    give_tickets(dupont["family"], meal, 3)
    Closure.objects.create(reason="Sortie scolaire", start=MONDAY, end=MONDAY, school=school,
                           service=canteen)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"]) == "closed"


def test_booking_is_allowed_one_second_before_the_deadline_and_refused_one_second_after(
        dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    limit = datetime.datetime(2026, 9, 12, 10, 0, tzinfo=deadlines.PARIS)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"],
                        now=limit + datetime.timedelta(seconds=1)) == "deadline"
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=limit - datetime.timedelta(seconds=1))


@pytest.mark.parametrize(("now", "allowed"), [
    (datetime.datetime(2027, 3, 28, 7, 59, 59, tzinfo=UTC), True),
    (datetime.datetime(2027, 3, 28, 8, 0, 1, tzinfo=UTC), False),
])
def test_booking_deadline_across_the_spring_dst_change(dupont, canteen, meal, now, allowed):
    give_tickets(dupont["family"], meal, 3)
    day = datetime.date(2027, 3, 30)
    if allowed:
        assert book_day(dupont["child"], canteen, day, by=dupont["user"], now=now).is_active
    else:
        assert refused_code(dupont["child"], canteen, day, dupont["user"], now=now) == "deadline"


@pytest.mark.parametrize(("now", "allowed"), [
    (datetime.datetime(2026, 10, 25, 8, 59, 59, tzinfo=UTC), True),
    (datetime.datetime(2026, 10, 25, 9, 0, 1, tzinfo=UTC), False),
])
def test_booking_deadline_across_the_autumn_dst_change(dupont, canteen, meal, now, allowed):
    give_tickets(dupont["family"], meal, 3)
    day = datetime.date(2026, 10, 27)
    if allowed:
        assert book_day(dupont["child"], canteen, day, by=dupont["user"], now=now).is_active
    else:
        assert refused_code(dupont["child"], canteen, day, dupont["user"], now=now) == "deadline"


def test_weekly_deadline_rule_refuses_one_second_after_thursday_2359(dupont, canteen, meal):
    canteen.booking_rule = "weekly"
    canteen.booking_weekday = 3
    canteen.booking_time = datetime.time(23, 59)
    canteen.save()
    give_tickets(dupont["family"], meal, 3)
    limit = datetime.datetime(2026, 9, 10, 23, 59, tzinfo=deadlines.PARIS)
    thursday = MONDAY + datetime.timedelta(days=3)
    assert refused_code(dupont["child"], canteen, thursday, dupont["user"],
                        now=limit + datetime.timedelta(seconds=1)) == "deadline"
    book_day(dupont["child"], canteen, thursday, by=dupont["user"], now=limit - datetime.timedelta(seconds=1))


def test_it_refuses_when_the_service_is_full(dupont, martin, canteen, meal):
    canteen.capacity = 1
    canteen.save()
    give_tickets(dupont["family"], meal, 1)
    give_tickets(martin["family"], meal, 1)
    book_day(martin["child"], canteen, MONDAY, by=martin["user"], now=NOW)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"]) == "full"


def test_it_refuses_without_a_ticket_and_changes_nothing(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 0)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"]) == "no_ticket"
    wallet.refresh_from_db()
    assert wallet.balance == 0
    assert not Booking.objects.exists() and not LedgerEntry.objects.exists()


def test_a_ticket_of_another_type_does_not_pay_for_the_canteen(dupont, canteen, care):
    give_tickets(dupont["family"], care, 5)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"]) == "no_ticket"


def test_it_refuses_booking_the_same_day_twice(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 3)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"]) == "already"
    wallet.refresh_from_db()
    assert wallet.balance == 2


def test_cancelling_before_the_deadline_gives_the_ticket_back(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    cancel_booking(booking, by=dupont["user"], now=NOW)
    wallet.refresh_from_db()
    booking.refresh_from_db()
    assert wallet.balance == 1 and booking.status == "cancelled" and booking.refunded
    assert LedgerEntry.objects.filter(booking=booking, kind="cancellation", quantity=1).count() == 1
    # The day can be booked again afterwards.
    assert book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW).is_active


def test_family_cancellation_is_refused_one_second_after_the_deadline(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    limit = datetime.datetime(2026, 9, 12, 10, 0, tzinfo=deadlines.PARIS)
    with pytest.raises(BookingRefused) as exc:
        cancel_booking(booking, by=dupont["user"], now=limit + datetime.timedelta(seconds=1))
    assert exc.value.code == "cancel_deadline"
    cancel_booking(booking, by=dupont["user"], now=limit - datetime.timedelta(seconds=1))


@pytest.mark.parametrize(("refund", "balance"), [(True, 1), (False, 0)])
def test_an_agent_cancels_after_the_deadline_with_or_without_refund(dupont, canteen, meal, agent,
                                                                    refund, balance):
    wallet = give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    late = datetime.datetime(2026, 9, 14, 12, 0, tzinfo=deadlines.PARIS)
    cancel_booking(booking, by=agent, refund=refund, now=late)
    wallet.refresh_from_db()
    assert wallet.balance == balance
    assert Booking.objects.get(pk=booking.pk).refunded is refund


def test_a_family_cannot_choose_the_refund_like_an_agent(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    with pytest.raises(PermissionDenied):
        cancel_booking(booking, by=dupont["user"], refund=True, now=NOW)


def test_cancelling_twice_refunds_once(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    stale = Booking.objects.get(pk=booking.pk)
    cancel_booking(booking, by=dupont["user"], now=NOW)
    with pytest.raises(BookingRefused) as exc:
        cancel_booking(stale, by=dupont["user"], now=NOW)
    assert exc.value.code == "not_active"
    wallet.refresh_from_db()
    assert wallet.balance == 1


def test_day_states_give_each_state_with_its_reason(dupont, canteen, evening, meal, school):
    canteen_cap = Service.objects.get(pk=canteen.pk)
    give_tickets(dupont["family"], meal, 1)
    booked = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    Closure.objects.create(kind="one_off", reason="Grève", start=MONDAY + datetime.timedelta(days=1),
                           end=MONDAY + datetime.timedelta(days=1))
    days = deadlines.month_days(2026, 9)
    planning = planning_states.day_states(dupont["children"], days, now=NOW)
    row = planning.rows[0]
    state = {(c.service.name, c.day.day): (c.state, c.reason) for c in row.cells.values()}
    assert state[("Cantine", 14)][0] == "booked"
    assert row.cells[(canteen_cap.pk, MONDAY)].booking.pk == booked.pk
    assert state[("Cantine", 15)] == ("closed", "Grève")
    assert state[("Cantine", 16)][0] == "not_offered"  # Wednesday
    assert state[("Cantine", 7)][0] == "deadline"  # today, deadline passed
    assert state[("Cantine", 17)][0] == "no_ticket"  # the only ticket is spent
    assert state[("Garderie du soir", 17)][0] == "no_ticket"
    assert planning.balances == {meal.pk: 0, evening.ticket_type_id: 0}
    later = planning_states.day_states(dupont["children"], days, now=datetime.datetime(
        2026, 9, 13, 12, 0, tzinfo=deadlines.PARIS))
    assert later.rows[0].cells[(canteen.pk, MONDAY)].state == "locked"


def test_day_states_show_full_not_validated_and_available(dupont, school, canteen, meal):
    canteen.capacity = 0
    canteen.save()
    give_tickets(dupont["family"], meal, 2)
    days = [MONDAY]
    assert planning_states.day_states(dupont["children"], days, now=NOW).rows[0].cells[
        (canteen.pk, MONDAY)].state == "full"
    canteen.capacity = None
    canteen.save()
    assert planning_states.day_states(dupont["children"], days, now=NOW).rows[0].cells[
        (canteen.pk, MONDAY)].state == "available"
    dupont["family"].status = Family.Status.SUSPENDED
    dupont["family"].save()
    assert planning_states.day_states(dupont["children"], days, now=NOW).rows[0].cells[
        (canteen.pk, MONDAY)].state == "not_validated"


def test_weekly_pattern_preview_counts_needed_and_missing_tickets(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    preview = pattern_preview(dupont["children"], [canteen], [0, 1, 3], MONDAY,
                              MONDAY + datetime.timedelta(days=13), now=NOW)
    assert preview["days"] == 6
    assert preview["lines"] == [{"ticket_type": meal, "needed": 6, "balance": 3, "missing": 3}]


def test_weekly_pattern_books_in_date_order_as_far_as_tickets_allow(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 3)
    Closure.objects.create(reason="Grève", start=MONDAY + datetime.timedelta(days=1),
                           end=MONDAY + datetime.timedelta(days=1))
    result = book_pattern(dupont["children"], [canteen], [0, 1, 3], MONDAY,
                          MONDAY + datetime.timedelta(days=13), by=dupont["user"], now=NOW)
    assert [b.date.day for b in result.booked] == [14, 17, 21]
    refused = [(day.day, msg) for _child, _service, day, msg in result.refused]
    assert refused[0] == (15, "Grève")
    assert [d for d, _m in refused[1:]] == [22, 24]
    assert all("ticket" in m for _d, m in refused[1:])
    wallet.refresh_from_db()
    assert wallet.balance == 0


def test_a_suspension_saved_after_the_child_was_loaded_still_refuses(dupont, canteen, meal):
    # The family's state is read from the database under the wallet lock, not from the instance.
    give_tickets(dupont["family"], meal, 3)
    child = dupont["child"]
    assert child.family.status == Family.Status.VALIDATED
    Family.objects.filter(pk=child.family_id).update(status=Family.Status.SUSPENDED)
    assert refused_code(child, canteen, MONDAY, dupont["user"]) == "not_validated"


def test_a_child_moved_to_another_school_is_refused_even_through_an_old_instance(
        dupont, canteen, meal, other_school):
    from portal.models import Child

    give_tickets(dupont["family"], meal, 3)
    Child.objects.filter(pk=dupont["child"].pk).update(school=other_school)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"]) == "not_offered"


def test_of_two_closures_the_one_starting_first_gives_the_reason(dupont, canteen, school, meal):
    give_tickets(dupont["family"], meal, 3)
    Closure.objects.create(reason="Sortie scolaire", start=MONDAY, end=MONDAY, school=school)
    Closure.objects.create(reason="Travaux", start=MONDAY - datetime.timedelta(days=3), end=MONDAY,
                           service=canteen)
    with pytest.raises(BookingRefused) as exc:
        book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    assert exc.value.code == "closed" and "Travaux" in exc.value.message


def test_refusals_follow_the_order_the_grid_shows(dupont, canteen, meal):
    # A booked day is "already" whatever else holds (the grid shows it booked); for a day not
    # booked, day_rules' order: closed, then a passed deadline, then the file, then tickets.
    give_tickets(dupont["family"], meal, 1)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    tuesday = MONDAY + datetime.timedelta(days=1)
    Closure.objects.create(reason="Grève", start=MONDAY, end=tuesday)
    Family.objects.filter(pk=dupont["family"].pk).update(status=Family.Status.SUBMITTED)
    late = datetime.datetime(2026, 9, 14, 12, 0, tzinfo=deadlines.PARIS)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"], now=late) == "already"
    assert refused_code(dupont["child"], canteen, tuesday, dupont["user"], now=late) == "closed"
    Closure.objects.all().delete()
    assert refused_code(dupont["child"], canteen, tuesday, dupont["user"], now=late) == "deadline"
    assert refused_code(dupont["child"], canteen, tuesday, dupont["user"]) == "not_validated"


def test_already_wins_over_full_and_full_over_no_ticket(dupont, martin, canteen, meal):
    canteen.capacity = 1
    canteen.save()
    give_tickets(dupont["family"], meal, 1)
    give_tickets(martin["family"], meal, 0)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"]) == "already"
    assert refused_code(martin["child"], canteen, MONDAY, martin["user"]) == "full"


def test_a_cancellation_is_saved_through_the_model_so_post_save_listeners_see_it(dupont, canteen, meal):
    from django.db.models.signals import post_save

    give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append((instance.pk, instance.status))

    post_save.connect(listener, sender=Booking)
    try:
        cancel_booking(booking, by=dupont["user"], now=NOW)
    finally:
        post_save.disconnect(listener, sender=Booking)
    assert seen == [(booking.pk, "cancelled")]


def test_a_deadline_changed_on_another_worker_between_preview_and_pattern_is_obeyed(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 3)
    args = (dupont["children"], [canteen], [0], MONDAY, MONDAY)
    assert pattern_preview(*args, now=NOW)["days"] == 1  # the planning's display cache holds the service
    # Another worker saves a deadline ten days ahead: this process's display cache never hears of
    # it (no Redis, or a data migration without signals).
    Service.objects.filter(pk=canteen.pk).update(booking_days=10)
    stored = Service.objects.get(pk=canteen.pk)
    assert refused_code(dupont["child"], stored, MONDAY, dupont["user"]) == "deadline"
    result = book_pattern(*args, by=dupont["user"], now=NOW)
    assert result.booked == []
    assert [message for *_cell, message in result.refused] == [refusal_message("deadline")]
    wallet.refresh_from_db()
    assert wallet.balance == 3


def test_book_day_obeys_the_stored_deadline_not_the_callers_instance(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    Service.objects.filter(pk=canteen.pk).update(booking_days=10)
    assert canteen.booking_days == 2  # the caller's instance still says two days
    assert refused_code(dupont["child"], canteen, MONDAY, dupont["user"]) == "deadline"


def test_cancel_booking_obeys_the_stored_cancellation_deadline_not_the_callers_instance(
        dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    # An agent moves the cancellation deadline to 10 days before; the family's page (and the
    # booking it holds) still has the old two-day rule.
    Service.objects.filter(pk=canteen.pk).update(cancel_days=10)
    assert booking.service.cancel_days == 2
    with pytest.raises(BookingRefused) as exc:
        cancel_booking(booking, by=dupont["user"], now=NOW)
    assert exc.value.code == "cancel_deadline"
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.ACTIVE
