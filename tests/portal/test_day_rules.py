"""The grid's state of a day and a click's refusal on it come from one function, day_rules: for
every state, and when several rules apply at once, the click says what the grid said."""

import datetime

import pytest

from portal.models import Closure, Family, FileRequirement, SchoolYear
from portal.rawsql import children_of_guardian
from portal.services.booking import BookingRefused, book_day, join_waitlist, refusal_message
from portal.services.deadlines import PARIS
from portal.services.planning_states import day_states
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets

pytestmark = pytest.mark.django_db

WEDNESDAY = MONDAY + datetime.timedelta(days=2)  # the canteen does not run on Wednesdays
CHRISTMAS = datetime.date(2026, 12, 25)  # a Friday
NEXT_YEAR_DAY = datetime.date(2027, 9, 6)  # a Monday of the school year after the current one
AFTER_DEADLINE = datetime.datetime(2026, 9, 12, 11, 0, tzinfo=PARIS)  # Saturday 10:00 has passed


def close(kind, reason):
    Closure.objects.create(kind=kind, reason=reason, start=MONDAY, end=MONDAY)


def wait(f):
    fill(f["canteen"], f["martin"], f["meal"])
    join_waitlist(f["dupont"]["child"], f["canteen"], MONDAY, by=f["dupont"]["user"], now=NOW)


def suspend(family):
    family.status = Family.Status.SUBMITTED
    family.save()


def fill(canteen, martin, meal):
    canteen.capacity = 1
    canteen.save()
    give_tickets(martin["family"], meal, 1)
    book_day(martin["child"], canteen, MONDAY, by=martin["user"], now=NOW)


def next_year_to_renew(f):
    """A second school year created by the rollover, whose insurance the Duponts have not sent."""
    SchoolYear.objects.create(name="2026-2027", start=datetime.date(2026, 9, 1),
                              end=datetime.date(2027, 7, 3))
    year = SchoolYear.objects.create(name="2027-2028", start=datetime.date(2027, 9, 1),
                                     end=datetime.date(2028, 7, 3))
    FileRequirement.objects.create(school_year=year, name="Attestation d’assurance")
    f["canteen"].end = year.end
    f["canteen"].save()


CASES = {
    "not_offered": (WEDNESDAY, NOW, lambda f: None),
    "public_holiday": (CHRISTMAS, NOW, lambda f: None),
    "school_holiday": (MONDAY, NOW, lambda f: close(Closure.Kind.SCHOOL_HOLIDAY, "Vacances de la Toussaint")),
    "closed": (MONDAY, NOW, lambda f: close(Closure.Kind.ONE_OFF, "Grève")),
    "deadline": (MONDAY, AFTER_DEADLINE, lambda f: None),
    "not_validated": (MONDAY, NOW, lambda f: suspend(f["dupont"]["family"])),
    "not_renewed": (NEXT_YEAR_DAY, NOW, next_year_to_renew),
    "full": (MONDAY, NOW, lambda f: fill(f["canteen"], f["martin"], f["meal"])),
    "no_ticket": (MONDAY, NOW, lambda f: f["tickets"].update(n=0)),
    "waiting": (MONDAY, NOW, wait),
    # Several rules at once: the first in day_rules' order wins, on the grid and on the click.
    "deadline and file not validated": (MONDAY, AFTER_DEADLINE, lambda f: suspend(f["dupont"]["family"])),
    "closed and file not validated": (MONDAY, NOW, lambda f: (close(Closure.Kind.ONE_OFF, "Grève"),
                                                              suspend(f["dupont"]["family"]))),
    "full and no ticket": (MONDAY, NOW, lambda f: (fill(f["canteen"], f["martin"], f["meal"]),
                                                   f["tickets"].update(n=0))),
    "waiting and deadline": (MONDAY, AFTER_DEADLINE, wait),
}
EXPECTED = {"not_offered": "not_offered", "public_holiday": "holiday", "school_holiday": "holiday",
            "closed": "closed", "deadline": "deadline", "not_validated": "not_validated", "full": "full",
            "not_renewed": "not_renewed",
            "no_ticket": "no_ticket", "deadline and file not validated": "deadline",
            "closed and file not validated": "closed", "full and no ticket": "full",
            "waiting": "waiting", "waiting and deadline": "deadline"}


@pytest.mark.parametrize("case", list(CASES))
def test_a_click_is_refused_for_the_reason_the_grid_shows(case, dupont, martin, canteen, meal):
    day, now, arrange = CASES[case]
    facts = {"dupont": dupont, "martin": martin, "canteen": canteen, "meal": meal, "tickets": {"n": 1}}
    arrange(facts)
    give_tickets(dupont["family"], meal, facts["tickets"]["n"])
    children = children_of_guardian(dupont["user"].pk)
    cell = day_states(children, [day], now=now).rows[0].cells[(canteen.pk, day)]
    assert cell.state == EXPECTED[case]
    with pytest.raises(BookingRefused) as refused:
        book_day(children[0], canteen, day, by=dupont["user"], now=now)
    assert refused.value.code == cell.state
    assert refused.value.message == refusal_message(cell.state, cell.reason)


def test_an_available_day_is_booked_by_its_click(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 1)
    children = children_of_guardian(dupont["user"].pk)
    assert day_states(children, [MONDAY], now=NOW).rows[0].cells[(canteen.pk, MONDAY)].state == "available"
    assert book_day(children[0], canteen, MONDAY, by=dupont["user"], now=NOW).date == MONDAY
    assert day_states(children, [MONDAY], now=NOW).rows[0].cells[(canteen.pk, MONDAY)].state == "booked"
