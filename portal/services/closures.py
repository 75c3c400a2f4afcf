"""A closure entered by the town hall (strike, works, a holiday imported late) on days that
families already booked: those bookings are cancelled and their tickets given back, in the
transaction that saves the closure, and each family gets one summary e-mail.

What a closure leaves alone, and why:
- a day whose roll-call was closed: the service took place and the roll-call settled it
  (tickets spent, penalties charged); an agent corrects such a day booking by booking;
- the penalties and debts of any earlier roll-call: they belong to days that are not closed.
A booking whose absence was excused keeps its excuse: it is cancelled without a second ticket
(the excuse gave it back). An absence report still waiting for that day is answered by the
closure (accepted, the ticket coming back with the cancellation), so the agent's queue does not
keep a report about a day that no longer exists. A roll-call opened but not closed on that day
keeps its marks, and cannot be closed any more (the day is closed): nobody is charged.
Deleting the closure later does not book the days again. A family's click that read the rules
before the closure was committed may commit its booking just after the cancellations: the admin
runs apply_closure once more after the commit (tasks.sweep_closure) to cancel it too.
"""

from dataclasses import dataclass, field

from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.cache import display_cache
from portal.models import AbsenceReport, AttendanceMark, Booking, LedgerEntry, RollCall, Wallet

from . import audit, notify


@dataclass
class ClosureImpact:
    bookings: int = 0  # active bookings the closure cancels
    families: int = 0
    kept: int = 0  # bookings of days whose roll-call is closed: left as they are


@dataclass
class ClosureResult:
    cancelled: list = field(default_factory=list)  # [Booking], cancelled now
    refunded: int = 0  # tickets given back
    families: int = 0
    kept: int = 0


def _matching(closure):
    """Active bookings on the closure's days, schools and services."""
    bookings = Booking.objects.filter(status=Booking.Status.ACTIVE,
                                      date__range=(closure.start, closure.end))
    if closure.school_id is not None:
        bookings = bookings.filter(child__school_id=closure.school_id)
    if closure.service_id is not None:
        bookings = bookings.filter(service_id=closure.service_id)
    settled = RollCall.objects.filter(school_id=OuterRef("child__school_id"),
                                      service_id=OuterRef("service_id"), date=OuterRef("date"),
                                      closed_at__isnull=False)
    return bookings.annotate(settled=Exists(settled))


def closure_impact(closure):
    """What saving this closure (saved or not) would cancel: two queries."""
    if not (closure.start and closure.end) or closure.end < closure.start:
        return ClosureImpact()
    rows = list(_matching(closure).values_list("family_id", "settled"))
    cancelled = [family for family, settled in rows if not settled]
    return ClosureImpact(bookings=len(cancelled), families=len(set(cancelled)),
                         kept=len(rows) - len(cancelled))


def apply_closure(closure, *, by, now=None):
    """Cancel the bookings a saved closure covers and give their tickets back. Call it in the
    transaction that saves the closure. Saving the same closure again, or two overlapping
    closures at once, cancel and refund each booking once: the bookings are re-read active
    under the wallets' locks."""
    now = now or timezone.now()
    # Each booking's household (the one that paid) gets its ticket back and the e-mail.
    found = list(_matching(closure).select_related("child", "family", "service__ticket_type")
                 .order_by("family_id", "service__ticket_type_id", "date", "pk"))
    result = ClosureResult(kept=sum(1 for b in found if b.settled))
    found = [b for b in found if not b.settled]
    if not found:
        return result
    days = {(b.child_id, b.service_id, b.date) for b in found}
    # Locks in the order of review_absence (report, then wallet) and of cancel_booking (wallet,
    # then booking), each kind in primary-key order: a concurrent review, cancellation or
    # closure never waits on this one in a circle.
    reports = [r for r in AbsenceReport.objects.select_for_update(of=("self",)).filter(
        state=AbsenceReport.State.PENDING, date__range=(closure.start, closure.end),
        child_id__in={b.child_id for b in found}).order_by("pk")
        if (r.child_id, r.service_id, r.date) in days]
    pairs = {(b.family_id, b.service.ticket_type_id) for b in found}
    wallets = {(w.family_id, w.ticket_type_id): w for w in Wallet.objects.select_for_update(of=("self",))
               .filter(family_id__in={f for f, _t in pairs}).order_by("pk")}
    still_active = set(Booking.objects.select_for_update(of=("self",))
                       .filter(pk__in=[b.pk for b in found], status=Booking.Status.ACTIVE)
                       .order_by("pk").values_list("pk", flat=True))
    found = [b for b in found if b.pk in still_active]
    if not found:
        return result
    # An excused absence already gave its ticket back (excuse_absence re-reads the booking
    # under the wallet's lock, so it cannot give it back after this cancellation).
    excused = set(AttendanceMark.objects.filter(
        excused_at__isnull=False, roll_call__date__range=(closure.start, closure.end),
        child_id__in={b.child_id for b in found}).values_list(
        "child_id", "roll_call__service_id", "roll_call__date"))
    refund_ids = {b.pk for b in found if (b.child_id, b.service_id, b.date) not in excused}
    for b in found:
        b.status, b.cancelled_at, b.cancelled_by = Booking.Status.CANCELLED, now, by
        b.refunded = b.pk in refund_ids
    Booking.objects.filter(pk__in=[b.pk for b in found]).update(
        status=Booking.Status.CANCELLED, cancelled_at=now, cancelled_by=by,
        refunded=Case(When(pk__in=refund_ids, then=Value(True)), default=Value(False)))
    reason = _("Fermeture : %(reason)s") % {"reason": closure.reason}
    refunded = [b for b in found if b.refunded]
    LedgerEntry.objects.bulk_create([
        LedgerEntry(wallet=wallets[(b.family_id, b.service.ticket_type_id)],
                    kind=LedgerEntry.Kind.CANCELLATION, quantity=1, by=by, agent=by, booking=b,
                    reason=f"{reason} — {b.service.name} {b.date:%d/%m/%Y}"[:255])
        for b in refunded])
    given = {}
    for b in refunded:
        wallet = wallets[(b.family_id, b.service.ticket_type_id)]
        given[wallet.pk] = given.get(wallet.pk, 0) + 1
    # One UPDATE per wallet, moving the balance in the database as apply_entry does.
    for wallet_pk, n in given.items():
        Wallet.objects.filter(pk=wallet_pk).update(balance=F("balance") + n)
    cancelled_days = {(b.child_id, b.service_id, b.date) for b in found}
    AbsenceReport.objects.filter(pk__in=[r.pk for r in reports
                                         if (r.child_id, r.service_id, r.date) in cancelled_days]).update(
        state=AbsenceReport.State.ACCEPTED, reviewed_at=now, reviewed_by=by,
        response=_("Jour fermé (%(reason)s) : la réservation est annulée.") % {"reason": closure.reason})
    # Bulk writes send no signals: bump what the families' pages show.
    display_cache.bump(display_cache.CAPACITY)
    for child_id in {b.child_id for b in found}:
        display_cache.bump(display_cache.child_namespace(child_id))
    by_family = {}
    for b in found:
        by_family.setdefault(b.family, []).append(b)
    for family, bookings in by_family.items():
        display_cache.bump(display_cache.wallet_namespace(family.pk))
        audit.record_action(by, "closure.cancel", family, target=closure,
                            after={"bookings": [b.pk for b in bookings],
                                   "tickets": sum(b.refunded for b in bookings)})
        notify.closure_cancelled(closure, family, bookings)
    result.cancelled, result.refunded, result.families = found, len(refunded), len(by_family)
    return result
