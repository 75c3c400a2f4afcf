"""The treasury: payments journal per period and method, tickets still owed."""

import datetime
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from portal.models import (
    LedgerEntry,
    Purchase,
    Receipt,
    Refund,
)
from portal.money import euros
from portal.services import deadlines


def day_bounds(start, end):
    """[start 00:00, end+1 00:00) in Paris time, as aware datetimes."""
    return (datetime.datetime.combine(start, datetime.time(0), tzinfo=deadlines.PARIS),
            datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(0),
                                      tzinfo=deadlines.PARIS))


@dataclass
class JournalLine:
    when: datetime.datetime
    kind: str  # "payment" or "refund"
    receipt: str
    family: str
    ticket_type: str
    method: str
    method_label: str
    reference: str
    quantity: int
    amount_cents: int

    @property
    def amount(self):
        return euros(self.amount_cents)


def journal(start, end, *, method=None, ticket_type=None):
    """Payments received and refunds made in [start, end], with totals per method and ticket type."""
    low, high = day_bounds(start, end)
    purchases = (Purchase.objects.filter(state=Purchase.State.PAID, paid_at__gte=low, paid_at__lt=high)
                 .select_related("family", "ticket_type", "receipt").order_by("paid_at", "pk"))
    refunds = (Refund.objects.filter(created_at__gte=low, created_at__lt=high)
               .select_related("purchase__family", "purchase__ticket_type", "purchase__receipt")
               .order_by("created_at", "pk"))
    if method:
        purchases = purchases.filter(method=method)
        refunds = refunds.filter(purchase__method=method)
    if ticket_type:
        purchases = purchases.filter(ticket_type=ticket_type)
        refunds = refunds.filter(purchase__ticket_type=ticket_type)
    lines = []
    for p in purchases:
        lines.append(JournalLine(timezone.localtime(p.paid_at, deadlines.PARIS), "payment",
                                 _receipt_of(p), p.family.name, p.ticket_type.name, p.method,
                                 p.get_method_display(), p.reference or (p.payment_id or ""),
                                 p.quantity, p.amount_cents))
    for r in refunds:
        p = r.purchase
        lines.append(JournalLine(timezone.localtime(r.created_at, deadlines.PARIS), "refund",
                                 _receipt_of(p), p.family.name, p.ticket_type.name, p.method,
                                 p.get_method_display(), r.provider_refund_id or r.reason,
                                 -r.quantity, -r.amount_cents))
    lines.sort(key=lambda line: line.when)
    by_method, by_type = {}, {}
    for line in lines:
        for bucket, key in ((by_method, line.method_label), (by_type, line.ticket_type)):
            q, c = bucket.get(key, (0, 0))
            bucket[key] = (q + line.quantity, c + line.amount_cents)
    total = (sum(line.quantity for line in lines), sum(line.amount_cents for line in lines))
    return {"lines": lines, "start": start, "end": end,
            "by_method": [(k, q, euros(c)) for k, (q, c) in sorted(by_method.items())],
            "by_type": [(k, q, euros(c)) for k, (q, c) in sorted(by_type.items())],
            "total_quantity": total[0], "total_cents": total[1], "total": euros(total[1])}


def _receipt_of(purchase):
    try:
        return purchase.receipt.label
    except Receipt.DoesNotExist:
        return ""


def outstanding_tickets(at):
    """Unused tickets per ticket type at the end of day `at`, summed from the ledger: what the
    town still owes in prepaid services."""
    _low, high = day_bounds(at, at)
    rows = (LedgerEntry.objects.filter(created_at__lt=high)
            .values("wallet__ticket_type_id", "wallet__ticket_type__name")
            .annotate(total=Sum("quantity")).order_by("wallet__ticket_type__name"))
    return [{"ticket_type": row["wallet__ticket_type__name"], "tickets": row["total"] or 0} for row in rows]
