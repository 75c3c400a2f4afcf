"""Booking and cancelling days: every rule of the regulation has its one home here."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import rawsql
from portal.models import Booking, Child, Family, LedgerEntry, Service, WaitlistEntry, Wallet

from . import access, audit, deadlines, dossier, notify, planning_states
from .wallet import apply_entry, lock_wallet


class BookingRefused(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def refusal_message(code, closure_reason=""):
    messages = {
        "not_validated": _("Le dossier de la famille n’est pas complet ou pas encore validé "
                           "(voir « Mon dossier »)."),
        "not_renewed": _("Le dossier de la famille n’est pas encore renouvelé pour l’année "
                         "%(year)s : renvoyez les pièces demandées et acceptez le règlement (voir "
                         "« Mon dossier »). Les jours de l’année en cours restent réservables.")
        % {"year": closure_reason},
        "child_review": _("La fiche de l’enfant, ajouté après la validation du dossier, attend "
                          "la vérification de la mairie (santé, PAI)."),
        "not_offered": _("Cette prestation n’a pas lieu ce jour-là pour cette école."),
        # Public or school holidays, and other closures: the grid says « Fermé » for all.
        "holiday": _("Fermé : %(reason)s.") % {"reason": closure_reason},
        "closed": _("Fermé : %(reason)s.") % {"reason": closure_reason},
        "deadline": _("La date limite de réservation est dépassée."),
        "already": _("Ce jour est déjà réservé."),
        # Nothing else about the other household's booking: not who, not when.
        "other_household": _("Réservé par l’autre foyer."),
        "full": _("Il n’y a plus de place ce jour-là."),
        "no_ticket": _("Plus de ticket disponible : achetez des tickets avant de réserver."),
        "cancel_deadline": _("La date limite d’annulation est dépassée : contactez la mairie."),
        "not_active": _("Cette réservation est déjà annulée."),
        "waiting": _("L’enfant est déjà en liste d’attente pour ce jour."),
        "not_full": _("Une place est libre ce jour-là : réservez-le directement."),
        "not_waiting": _("L’enfant n’est plus en liste d’attente pour ce jour."),
        "waitlist_expired": _("Ce jour est passé sans qu’une place se libère : l’inscription en "
                              "liste d’attente a expiré, il n’y a plus rien à retirer."),
    }
    return messages[code]


def _refuse(code, closure_reason=""):
    raise BookingRefused(code, refusal_message(code, closure_reason))


def final_once_booked(service, day, now=None):
    """True when a booking made now could not be cancelled by the family (its cancellation
    deadline has passed while booking is still open): the family confirms such a click."""
    return not deadlines.is_before(deadlines.cancel_rule(service), day, now or timezone.now())


def _facts_query(capped):
    """book_day's facts as one ORM query over the child's row (see _facts_under_lock); `capped`
    adds the day's count of bookings."""

    def build(child_id, family_id, service_id, day, today):
        active = Booking.Status.ACTIVE
        day_bookings = Booking.objects.filter(service_id=service_id, date=day, status=active)
        taken = Value(None, output_field=IntegerField())
        if capped:
            taken = Coalesce(Subquery(day_bookings.order_by().values("service_id").annotate(n=Count("pk"))
                                      .values("n")), 0)
        # The day's school year when it comes after the current one: its file must be renewed.
        renewal = dossier.renewal_year_q(day, today)
        return Child.objects.filter(Child.of_household(family_id), pk=child_id).order_by().annotate(
            is_open=Exists(Family.objects.filter(dossier.bookings_open_q(family_id, today))),
            renewal=Subquery(renewal.values("name")[:1]),
            renewed=Exists(Family.objects.filter(dossier.bookings_open_q(
                family_id, today, school_year=Subquery(renewal.values("pk")[:1])))),
            reviewed=ExpressionWrapper(Q(reviewed_at__isnull=False), output_field=BooleanField()),
            serves=Exists(Service.school_links(OuterRef("school_id")).filter(service_id=service_id)),
            already=Exists(day_bookings.filter(child_id=child_id, family_id=family_id)),
            other=Exists(day_bookings.filter(child_id=child_id).exclude(family_id=family_id)),
            waiting=Exists(WaitlistEntry.objects.filter(child_id=child_id, service_id=service_id, date=day,
                                                        family_id=family_id,
                                                        status=WaitlistEntry.Status.WAITING)),
            # The other household's entry for the child (one waiting entry per child and day).
            other_waiting=Exists(WaitlistEntry.objects.filter(
                child_id=child_id, service_id=service_id, date=day,
                status=WaitlistEntry.Status.WAITING).exclude(family_id=family_id)),
            taken=taken,
        ).values("is_open", "renewal", "renewed", "reviewed", "leaves_on", "school_id", "serves",
                 "already", "other", "waiting", "other_waiting", "taken")

    return build


def _facts_under_lock(child, service, day, family_id):
    """What book_day and join_waitlist read for one day in one query, after their locks, from
    the rows as stored (the child's school and review, not the caller's instance): whether the
    household's file opens bookings (the rule of dossier.bookings_open_q), whether the service
    serves the child's school, whether the day is booked already (by this household or the
    other one) or the child waits on its list and, for a capped service, how many bookings it
    has that day. Compiled once per process (rawsql.reused_row): compiling the file rule on
    every click cost most of it. A household that is not the child's is refused."""
    capped = service.capacity is not None
    facts = rawsql.reused_row(("book_day facts", capped), _facts_query(capped), child_id=child.pk,
                              family_id=family_id, service_id=service.pk, day=day,
                              today=timezone.localdate())
    if facts is None:  # detached from this household meanwhile, or never its child
        raise PermissionDenied
    return facts


def _day_state(child, service, day, now, balance, family_id):
    """(state, reason, facts) of a day, read from the database under the caller's locks and
    decided by the one rule function, planning_states.day_rules; the closure by the grid's
    closure_for."""
    facts = _facts_under_lock(child, service, day, family_id)
    if facts["already"]:
        return "already", "", facts
    closure = deadlines.closure_for(deadlines.closures_between(day, day), facts["school_id"], service.pk, day)
    state, reason = planning_states.day_rules(planning_states.DayFacts(
        service.runs_on(day) and facts["serves"]
        and (facts["leaves_on"] is None or day < facts["leaves_on"]),
        deadlines.public_holiday_name(day),
        None if closure is None else closure.kind,
        "" if closure is None else closure.reason,
        not deadlines.is_before(deadlines.booking_rule(service), day, now),
        facts["is_open"],
        facts["reviewed"],
        service.capacity is not None and facts["taken"] >= service.capacity,
        facts["waiting"],
        balance >= 1,
        facts["renewal"] if facts["renewal"] is not None and not facts["renewed"] else None,
        other_household=facts["other"]))
    return state, reason, facts


def _lock_service(service):
    """A capacity-limited service's row, locked: it serialises the bookings, cancellations and
    waiting lists of that service. Always taken before any wallet, so no deadlock."""
    return Service.objects.select_for_update().get(pk=service.pk)


def book_day(child, service, day, *, by, family=None, now=None):
    """Book one day for a child, paying with one ticket of the service's type from the wallet
    of `family`, the household booking (by default the one the child was loaded for,
    Child.household).

    `service` only says which service: its rules (weekdays, period, deadline, capacity, ticket
    type) are read again from its row here, so a caller's instance kept from a cache or a page
    shown a minute ago can never book by an old rule."""
    now = now or timezone.now()
    family_id = child.household_id if family is None else family.pk
    try:
        with transaction.atomic():
            service = Service.objects.get(pk=service.pk)
            if service.capacity is not None:
                # Its rules and the count below are read after the lock.
                service = _lock_service(service)
            locked = lock_wallet(family_id, service.ticket_type_id)
            # Every rule is checked after the locks: a concurrent request for this family and
            # ticket type waits above, then sees what the first one wrote. The other household
            # holds another wallet: between the two, the partial unique index decides (below).
            state, reason, facts = _day_state(child, service, day, now, locked.balance, family_id)
            if state != "available":
                _refuse(state, reason)
            booking = Booking.objects.create(child=child, family_id=family_id, service=service, date=day,
                                             created_by=by)
            apply_entry(locked, -1, LedgerEntry.Kind.BOOKING, by=by, booking=booking,
                        reason=f"{service.name} {day:%d/%m/%Y}")
            if facts["waiting"] or facts["other_waiting"]:
                # The child has its place: its entry on the day's list ends, booked, whichever
                # household signed up (the family took a place that came free itself, or the
                # other household booked the day: its planning says « Réservé par l’autre
                # foyer », and give_freed_place no longer meets the entry).
                WaitlistEntry.objects.filter(child=child, service=service, date=day,
                                             status=WaitlistEntry.Status.WAITING).update(
                    status=WaitlistEntry.Status.BOOKED, booking=booking, ended_at=now)
    except IntegrityError:
        # The partial unique index is the last line of defence against a double booking (the
        # two households of a child booking the same day at once lock different wallets).
        _refuse("other_household" if Booking.objects.filter(
            child=child, service=service, date=day, status=Booking.Status.ACTIVE).exclude(
            family_id=family_id).exists() else "already")
    return booking


def join_waitlist(child, service, day, *, by, family=None, now=None):
    """Put a child on a full day's waiting list for `family` (as book_day). No ticket is taken:
    a place given later is booked and paid then (give_freed_place), with a ticket the household
    has at that moment."""
    now = now or timezone.now()
    family_id = child.household_id if family is None else family.pk
    try:
        with transaction.atomic():
            service = Service.objects.get(pk=service.pk)
            if service.capacity is None:
                _refuse("not_full")
            # Under the service's lock: the list's order is the order of these commits.
            service = _lock_service(service)
            state, reason, _facts = _day_state(child, service, day, now, 1, family_id)
            if state in ("available", "final"):
                _refuse("not_full")
            if state != "full":
                _refuse(state, reason)
            return WaitlistEntry.objects.create(child=child, family_id=family_id, service=service, date=day,
                                                created_by=by)
    except IntegrityError:
        _refuse("waiting")


def leave_waitlist(entry, *, by, now=None):
    """Take a child off a waiting list (the family, or an agent at its request), written to the
    household's journal with who did it. An entry whose day has passed has expired: nothing is
    left to take off."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock_service(entry.service)
        current = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if current.status != WaitlistEntry.Status.WAITING:
            _refuse("not_waiting")
        if current.date < timezone.localdate(now):
            _refuse("waitlist_expired")
        current.status = WaitlistEntry.Status.LEFT
        current.ended_at = now
        current.save(update_fields=["status", "ended_at"])
        audit.record_action(by, "waitlist.leave", entry.family, target=entry)
    entry.status, entry.ended_at = current.status, current.ended_at
    return entry


def give_freed_place(service, day, *, now):
    """Give a place freed on a capacity-limited day to the first child of its waiting list whose
    family has a ticket, booked and paid by book_day (every rule applies), the family told by
    e-mail; a child whose family has no ticket (or whose day can no longer be booked) keeps its
    place in the list and the next one gets the place. Run by the caller under the service's
    lock, in the transaction that freed the place, so nobody else can take it in between.
    The household that signed up books, pays and is told. Returns the booking made, or None."""
    entries = list(WaitlistEntry.objects.filter(service=service, date=day,
                                                status=WaitlistEntry.Status.WAITING)
                   .select_related("child", "family", "service__ticket_type").order_by("pk"))
    for entry in entries:
        try:
            booking = book_day(entry.child, service, day, by=None, family=entry.family, now=now)
        except BookingRefused as exc:
            if exc.code in ("full", "waiting"):  # no place after all (the child's state says which)
                return None
            continue
        entry.refresh_from_db(fields=["status", "booking", "ended_at"])
        notify.waitlist_place_given(booking, entry)
        return booking
    return None


def _lock_wallets_in_order(family_ids, ticket_type_id):
    """Lock several families' wallets of one ticket type in primary-key order, in one query: a
    cancellation that gives its place away holds two families' wallets, and two of them each
    holding one and waiting for the other would deadlock."""
    list(Wallet.objects.select_for_update(of=("self",)).filter(
        family_id__in=family_ids, ticket_type_id=ticket_type_id).order_by("pk").values_list("pk"))


def fill_from_waitlists(service, *, now=None):
    """Give the places an agent's higher capacity (or no capacity any more) opened on coming
    days to their waiting lists, in each list's order, by the rules of give_freed_place (booked
    and paid by book_day, the family e-mailed; a family without a ticket keeps its place). One
    transaction per day, locks in the documented order: the service's row, then the waiting
    families' wallets in primary-key order. Returns the bookings made."""
    now = now or timezone.now()
    days = list(WaitlistEntry.objects.filter(service_id=service.pk, status=WaitlistEntry.Status.WAITING,
                                             date__gte=timezone.localdate(now))
                .order_by("date").values_list("date", flat=True).distinct())
    made = []
    for day in days:
        with transaction.atomic():
            current = _lock_service(service)
            waiting_families = set(WaitlistEntry.objects.filter(
                service_id=service.pk, date=day, status=WaitlistEntry.Status.WAITING)
                .values_list("family_id", flat=True))
            _lock_wallets_in_order(waiting_families, current.ticket_type_id)
            while (booking := give_freed_place(current, day, now=now)) is not None:
                made.append(booking)
    return made


def cancel_booking(booking, *, by, refund=None, now=None):
    """Cancel a booking. Families (refund=None) only before the cancellation deadline, ticket
    returned; agents (refund=True/False) at any time, choosing whether the ticket comes back."""
    now = now or timezone.now()
    if refund is not None and not access.is_agent(by):
        raise PermissionDenied
    with transaction.atomic():
        capped = booking.service.capacity is not None
        if capped:
            _lock_service(booking.service)
            waiting_families = set(WaitlistEntry.objects.filter(
                service_id=booking.service_id, date=booking.date,
                status=WaitlistEntry.Status.WAITING).values_list("family_id", flat=True))
            if waiting_families:
                _lock_wallets_in_order(waiting_families | {booking.family_id},
                                       booking.service.ticket_type_id)
        # The household that paid gets the ticket back.
        locked = lock_wallet(booking.family_id, booking.service.ticket_type_id)
        # The booking and its service's rules as stored, read under the locks (the caller's
        # instance may be older than an agent's change of the cancellation deadline).
        current = (Booking.objects.select_for_update(of=("self",)).select_related("service")
                   .get(pk=booking.pk))
        if current.status != Booking.Status.ACTIVE:
            _refuse("not_active")
        if refund is None and not deadlines.is_before(deadlines.cancel_rule(current.service),
                                                      current.date, now):
            _refuse("cancel_deadline")
        # The caller's booking already holds its child (a booking never changes it): no query
        # to load it again for the ledger's reason.
        current.child = booking.child
        give_back = True if refund is None else refund
        current.status = Booking.Status.CANCELLED
        current.cancelled_at = now
        current.cancelled_by = by
        current.refunded = give_back
        # save(), not a queryset update: caches listening to post_save see the cancellation.
        current.save(update_fields=["status", "cancelled_at", "cancelled_by", "refunded"])
        if give_back:
            apply_entry(locked, 1, LedgerEntry.Kind.CANCELLATION, by=by, booking=current,
                        agent=by if refund is not None else None,
                        reason=f"{current.service.name} {current.date:%d/%m/%Y}")
        if capped and waiting_families:
            give_freed_place(current.service, current.date, now=now)
    for name in ("status", "cancelled_at", "cancelled_by", "refunded"):
        setattr(booking, name, getattr(current, name))
    return booking


@dataclass
class PatternResult:
    booked: list = field(default_factory=list)  # [Booking]
    refused: list = field(default_factory=list)  # [(child, service, day, message)]


def pattern_days(start, end, weekdays):
    day, out = start, []
    while day <= end:
        if day.weekday() in weekdays:
            out.append(day)
        day += datetime.timedelta(days=1)
    return out


def pattern_candidates(children, services, weekdays, start, end, now=None):
    """Every (child, service, day) of a weekly pattern that is open for booking, in date order,
    plus the refused ones with their reason. Uses the planning's bulk loader: constant queries."""
    now = now or timezone.now()
    days = pattern_days(start, end, set(weekdays))
    grid = planning_states.day_states(children, days, now=now, ignore_tickets=True)
    wanted = {s.pk for s in services}
    open_cells, refused = [], []
    for day in days:
        for row in grid.rows:
            for cell in row.cells_for(day):
                if cell.service.pk not in wanted or cell.state == "not_offered":
                    continue
                if cell.state == "available":
                    open_cells.append(cell)
                elif cell.state not in ("booked", "locked"):
                    refused.append((row.child, cell.service, day, cell.reason))
    return grid, open_cells, refused


def pattern_preview(children, services, weekdays, start, end, now=None):
    """Tickets needed per ticket type for a weekly pattern and how many are missing."""
    grid, open_cells, refused = pattern_candidates(children, services, weekdays, start, end, now)
    needed = {}
    for cell in open_cells:
        needed[cell.service.ticket_type] = needed.get(cell.service.ticket_type, 0) + 1
    lines = []
    for ticket_type, count in sorted(needed.items(), key=lambda kv: kv[0].name):
        balance = grid.balances.get(ticket_type.pk, 0)
        lines.append({"ticket_type": ticket_type, "needed": count, "balance": balance,
                      "missing": max(0, count - balance)})
    return {"lines": lines, "days": len(open_cells), "refused": refused}


def book_pattern(children, services, weekdays, start, end, *, by, now=None):
    """Book a weekly pattern in date order, as many days as tickets allow; report the rest."""
    now = now or timezone.now()
    _grid, open_cells, refused = pattern_candidates(children, services, weekdays, start, end, now)
    result = PatternResult(refused=list(refused))
    for cell in open_cells:
        try:
            result.booked.append(book_day(cell.child, cell.service, cell.day, by=by, now=now))
        except BookingRefused as exc:
            result.refused.append((cell.child, cell.service, cell.day, exc.message))
    result.refused.sort(key=lambda r: (r[2], r[0].pk, r[1].order, r[1].pk))
    return result
