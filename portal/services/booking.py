"""Booking and cancelling days: every rule of the regulation has its one home here."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import rawsql
from portal.models import Booking, LedgerEntry, Service

from . import access, deadlines, planning_states
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
        "child_review": _("La fiche de l’enfant, ajouté après la validation du dossier, attend "
                          "la vérification de la mairie (santé, PAI)."),
        "not_offered": _("Cette prestation n’a pas lieu ce jour-là pour cette école."),
        # Public or school holidays, and other closures: the grid says « Fermé » for all.
        "holiday": _("Fermé : %(reason)s.") % {"reason": closure_reason},
        "closed": _("Fermé : %(reason)s.") % {"reason": closure_reason},
        "deadline": _("La date limite de réservation est dépassée."),
        "already": _("Ce jour est déjà réservé."),
        "full": _("Il n’y a plus de place ce jour-là."),
        "no_ticket": _("Plus de ticket disponible : achetez des tickets avant de réserver."),
        "cancel_deadline": _("La date limite d’annulation est dépassée : contactez la mairie."),
        "not_active": _("Cette réservation est déjà annulée."),
    }
    return messages[code]


def _refuse(code, closure_reason=""):
    raise BookingRefused(code, refusal_message(code, closure_reason))


def final_once_booked(service, day, now=None):
    """True when a booking made now could not be cancelled by the family (its cancellation
    deadline has passed while booking is still open): the family confirms such a click."""
    return not deadlines.is_before(deadlines.cancel_rule(service), day, now or timezone.now())


def book_day(child, service, day, *, by, now=None):
    """Book one day for a child, paying with one ticket of the service's type.

    `service` only says which service: its rules (weekdays, period, deadline, capacity, ticket
    type) are read again from its row here, so a caller's instance kept from a cache or a page
    shown a minute ago can never book by an old rule."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            service = Service.objects.get(pk=service.pk)
            locked = lock_wallet(child.family_id, service.ticket_type_id)
            capped = service.capacity is not None
            if capped:
                # Serialises the bookings of a capacity-limited service (taken after the wallet,
                # always in this order, so no deadlock); its rules and the count below are read
                # after it.
                service = Service.objects.select_for_update().get(pk=service.pk)
            # Every rule is checked after the locks: a concurrent request for this family and
            # ticket type waits above, then sees what the first one wrote.
            is_open, unreviewed, serves, closure, already, taken = rawsql.day_facts(
                child, service, day, capped)
            if already:
                _refuse("already")
            closure_kind, _sep, closure_reason = (closure or "").partition(":")
            state, reason = planning_states.day_rules(planning_states.DayFacts(
                service.runs_on(day) and serves,
                deadlines.public_holiday_name(day),
                closure_kind or None,
                closure_reason,
                not deadlines.is_before(deadlines.booking_rule(service), day, now),
                is_open,
                not unreviewed,
                service.capacity is not None and taken >= service.capacity,
                locked.balance >= 1))
            if state != "available":
                _refuse(state, reason)
            booking = Booking.objects.create(child=child, service=service, date=day, created_by=by)
            apply_entry(locked, -1, LedgerEntry.Kind.BOOKING, by=by, booking=booking,
                        reason=f"{service.name} {day:%d/%m/%Y} — {child.first_name}")
    except IntegrityError:
        # The partial unique index is the last line of defence against a double booking.
        _refuse("already")
    return booking


def cancel_booking(booking, *, by, refund=None, now=None):
    """Cancel a booking. Families (refund=None) only before the cancellation deadline, ticket
    returned; agents (refund=True/False) at any time, choosing whether the ticket comes back."""
    now = now or timezone.now()
    if refund is not None and not access.is_agent(by):
        raise PermissionDenied
    with transaction.atomic():
        locked = lock_wallet(booking.child.family_id, booking.service.ticket_type_id)
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
                        reason=f"{current.service.name} {current.date:%d/%m/%Y} — {current.child.first_name}")
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
