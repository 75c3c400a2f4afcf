"""The planning's day states: every child × service × day of a period, in a constant number of queries."""

import datetime
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import BooleanField, Exists, ExpressionWrapper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from portal import rawsql
from portal.cache import display_cache
from portal.models import Closure, Family, Service

from . import dossier
from .deadlines import (
    PARIS,
    booking_rule,
    cancel_rule,
    closure_for,
    closures_between,
    deadline,
    public_holiday_name,
)


def monday_of(day):
    return day - datetime.timedelta(days=day.weekday())


def week_days(monday):
    """The five school days of a week, Monday to Friday (the month view also shows Saturdays)."""
    return [monday + datetime.timedelta(days=i) for i in range(5)]


def planning_config(school_ids, start, end):
    """Services per school and the closures of the months around a period, from the cache (no
    query) until an agent changes a service, a closure, a school or a ticket type. Whole months:
    the one-day grid a click answers with finds what its page loaded (closure_for reads dates)."""
    ids = sorted(school_ids)
    first = start.replace(day=1)
    last = (end.replace(day=1) + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return display_cache.cached(
        (display_cache.PLANNING,), f"planning:{','.join(map(str, ids))}:{first}:{last}",
        lambda: (Service.for_schools(ids), closures_between(first, last)))


def family_file_status(family):
    """Whether the family may book and, when not, why, for the grid and the planning's banner:
    cached until the family's file or the year's requirements change (it depends on the date
    through the current school year and a new regulation's grace period)."""

    def compute():
        # From the family's row, read after the counters: the caller's instance may be older.
        fresh = Family.objects.annotate(opens_bookings=ExpressionWrapper(
            dossier.bookings_open_q(family.pk), output_field=BooleanField()),
            renewing=Exists(dossier.renewal_years())).get(pk=family.pk)
        missing, notice = dossier.file_check(fresh)
        open_ = fresh.opens_bookings  # the rule book_day applies; file_check says why not
        regulation = any(r.url == reverse("portal:regulation") for r in missing)
        # The years after the current one whose file this family has not renewed: their days
        # say so (one more query, only from the rollover until the new year starts).
        unrenewed = [(year.start, year.end, year.name)
                     for year, renewed in (dossier.renewed_years(fresh) if fresh.renewing else ())
                     if not renewed]
        return {"open": open_, "unrenewed": unrenewed,
                # A validated family stopped by its file: the cells say why, not "not validated".
                "cell": str(_("acceptez le nouveau règlement")) if regulation and
                fresh.status == Family.Status.VALIDATED else "",
                "reasons": [(str(r), r.url) for r in missing],
                "notice": (str(notice), notice.url) if notice else None}

    return display_cache.cached(
        (display_cache.PLANNING, display_cache.family_namespace(family.pk)),
        f"file:{family.pk}:{timezone.localdate()}:{get_language()}", compute)


def family_bookings_open(family):
    """dossier.bookings_open for display, from the cache (family_file_status)."""
    return family_file_status(family)["open"]


STATE_LABELS = {
    "not_offered": _("Pas de service"),
    "holiday": _("Fermé"),
    "closed": _("Fermé"),
    "deadline": _("Délai dépassé"),
    "not_validated": _("Dossier non validé"),
    "not_renewed": _("Dossier à renouveler pour l’année"),  # the reason: the year's name
    "child_review": _("Fiche de l’enfant en cours de vérification par la mairie"),
    "full": _("Complet"),
    "waiting": _("En liste d’attente"),
    "other_household": _("Réservé par l’autre foyer"),
    "no_ticket": _("Pas de ticket"),
    "available": _("Disponible"),
    "final": _("Disponible, non annulable une fois réservé"),
    "confirm": _("À confirmer"),
    # « Réservé » also labels family-only menus (restricted): a context keeps them apart.
    "booked": pgettext_lazy("planning day", "Réservé"),
    "locked": _("Réservé, non annulable"),
}


class DayFacts(NamedTuple):
    """What decides whether a day may be booked: loaded in bulk by day_states for the grid, and
    read by book_day from the database under its locks for the click."""

    offered: bool  # the service runs that day (period, weekday) for the child's school, and the
    # child has not left the school by then (Child.leaves_on)
    public_holiday: str | None  # its name
    closure_kind: str | None  # of the first closure covering the day, school and service
    closure_reason: str
    deadline_passed: bool
    bookings_open: bool  # the family's file opens bookings (dossier.bookings_open)
    child_reviewed: bool  # an agent checked the sheet of a child added after validation
    full: bool  # the service's daily capacity is reached
    waiting: bool  # the child is on the day's waiting list
    has_ticket: bool
    # The name of the school year after the current one that holds the day, when the family's
    # file for it is not renewed (dossier.bookings_open_q of that year), else None.
    unrenewed_year: str | None = None
    # The child's other household (separated parents) has booked this day of this service.
    other_household: bool = False


def day_rules(facts):
    """(state, reason) of a day not booked yet by this household. The one place the rules and
    their order are written: the grid shows this state and a click on the day is refused with
    this state."""
    if facts.other_household:  # nothing more is said about it: not who, not when
        return "other_household", ""
    if not facts.offered:
        return "not_offered", ""
    if facts.public_holiday is not None:
        return "holiday", facts.public_holiday
    if facts.closure_kind is not None:
        kind = "holiday" if facts.closure_kind == Closure.Kind.SCHOOL_HOLIDAY else "closed"
        return kind, facts.closure_reason
    if facts.deadline_passed:
        return "deadline", ""
    if not facts.bookings_open:
        return "not_validated", ""
    if facts.unrenewed_year is not None:
        return "not_renewed", facts.unrenewed_year
    if not facts.child_reviewed:
        return "child_review", ""
    if facts.full:
        # A full day offers its waiting list (no ticket needed to sign up: none is taken
        # until a place is given).
        return ("waiting" if facts.waiting else "full"), ""
    if not facts.has_ticket:
        return "no_ticket", ""
    return "available", ""


# States that turn into "deadline" when the booking deadline passes.
OPEN_STATES = frozenset({"not_validated", "not_renewed", "child_review", "full", "waiting", "no_ticket",
                         "available", "final"})


@dataclass
class Cell:
    child: object
    service: object
    day: datetime.date
    state: str
    reason: str = ""
    booking: rawsql.BookedDay = None
    waiting: rawsql.Waiting = None  # the child's entry on the day's waiting list

    @property
    def label(self):
        return str(STATE_LABELS[self.state])


@dataclass
class Row:
    child: object
    services: list
    cells: dict  # {(service_id, day): Cell}

    def cells_for(self, day):
        return [self.cells[(s.pk, day)] for s in self.services]


@dataclass
class Planning:
    days: list
    rows: list
    balances: dict  # {ticket_type_id: balance} for the (single) family shown
    ticket_types: list
    # Until this instant no cell changes state by the clock alone (a deadline or midnight):
    # how long a page showing these states may be reused if no data changes.
    stable_until: datetime.datetime = None
    capped: bool = False  # some service shown has a daily capacity (other families' bookings count)

    def restricted_to(self, days):
        """The same states for some of the days only (computed over a longer span at once)."""
        keep = set(days)
        rows = [Row(r.child, r.services, {k: c for k, c in r.cells.items() if k[1] in keep})
                for r in self.rows]
        return Planning(list(days), rows, self.balances, self.ticket_types, self.stable_until, self.capped)


def day_states(children, days, *, now, family=None, ignore_tickets=False):
    """The state of every child × service × day, loaded in a constant number of queries, as
    `family` sees them: the household whose file, wallet and bookings count (by default the
    one the first child was loaded for, Child.household); the other household's bookings show
    as « Réservé par l’autre foyer ».

    `children` should come with `family` and `school` selected. Each day not booked gets its
    state from day_rules, like book_day's refusals; book_day reads the facts again under its
    locks, this is the display.
    """
    tomorrow = now.astimezone(PARIS).date() + datetime.timedelta(days=1)
    stable_until = datetime.datetime.combine(tomorrow, datetime.time(), tzinfo=PARIS)
    if not children or not days:
        return Planning(days, [], {}, [], stable_until)
    start, end = days[0], days[-1]
    by_school, closures = planning_config({c.school_id for c in children}, start, end)
    all_services = {s.pk: s for lst in by_school.values() for s in lst}
    capped = [pk for pk, s in all_services.items() if s.capacity is not None]
    household = children[0].household if family is None else family
    household_id = household.pk
    bookings, taken, balances, waiting = rawsql.bookings_counts_wallets(children, household_id, capped,
                                                                        start, end)
    deadlines = {}

    def limit(service, day, kind):
        key = (service.pk, day, kind)
        if key not in deadlines:
            rule = booking_rule(service) if kind == "book" else cancel_rule(service)
            deadlines[key] = deadline(rule, day)
        return deadlines[key]

    # A family whose file still misses something (e.g. a new regulation to accept) cannot book.
    file_status = family_file_status(household)
    validated, closed_reason = file_status["open"], file_status["cell"]
    unrenewed = file_status.get("unrenewed")  # absent: cached before it existed
    rows = []
    for child in children:
        services = by_school.get(child.school_id, [])
        leaves_on = child.leaves_on
        cells = {}
        for service in services:
            # Plain locals: .pk is a property call, and this loop runs for every cell.
            weekdays, service_id = service.weekday_set, service.pk
            capacity, ticket_type_id = service.capacity, service.ticket_type_id
            child_id, school_id = child.pk, child.school_id
            for day in days:
                booking = bookings.get((child_id, service_id, day))
                entry = waiting.get((child_id, service_id, day)) if waiting else None
                reason = ""
                other = booking is not None and booking.family_id != household_id
                if other:
                    booking = None
                if booking is not None:
                    cancel_limit = limit(service, day, "cancel")
                    state = "booked" if now <= cancel_limit else "locked"
                    if state == "booked" and cancel_limit < stable_until:
                        stable_until = cancel_limit
                else:
                    closure = closure_for(closures, school_id, service_id, day)
                    book_limit = limit(service, day, "book")
                    state, reason = day_rules(DayFacts(
                        service.start <= day <= service.end and day.weekday() in weekdays
                        and (leaves_on is None or day < leaves_on),
                        public_holiday_name(day),
                        None if closure is None else closure.kind,
                        "" if closure is None else closure.reason,
                        now > book_limit,
                        validated,
                        child.reviewed_at is not None,
                        capacity is not None and taken.get((service_id, day), 0) >= capacity,
                        entry is not None,
                        ignore_tickets or balances.get(ticket_type_id, 0) >= 1,
                        next((name for first, last, name in unrenewed if first <= day <= last), None)
                        if unrenewed else None,
                        other_household=other))
                    if state == "not_validated":
                        reason = closed_reason
                    elif state == "available":
                        cancel_limit = limit(service, day, "cancel")
                        if now > cancel_limit:
                            # Booked now, the day could not be cancelled: said before the click.
                            state = "final"
                        elif cancel_limit < stable_until:
                            stable_until = cancel_limit
                if state in OPEN_STATES and book_limit < stable_until:
                    stable_until = book_limit
                cells[(service_id, day)] = Cell(child, service, day, state, reason, booking,
                                                entry if state == "waiting" else None)
        rows.append(Row(child, services, cells))
    ticket_types = sorted({s.ticket_type for s in all_services.values()}, key=lambda t: t.name)
    return Planning(days, rows, {t.pk: balances.get(t.pk, 0) for t in ticket_types},
                    ticket_types, stable_until, bool(capped))
