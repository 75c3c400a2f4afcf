"""Ticket wallets: every change is one ledger entry, written under a lock on the wallet row."""

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.transaction import TransactionManagementError
from django.utils.translation import gettext as _

from portal import rawsql
from portal.models import LedgerEntry, Wallet


class WalletError(Exception):
    """A refused wallet change; the message is shown to the user as is."""


def get_wallet(family, ticket_type):
    wallet, _created = Wallet.objects.get_or_create(family=family, ticket_type=ticket_type)
    return wallet


def lock_wallet(family_id, ticket_type_id):
    """A family's wallet for a ticket type, locked until the caller's transaction ends (created
    first if it does not exist): every change of a balance goes through here."""
    if connection.get_autocommit():
        raise TransactionManagementError("lock_wallet() must run inside transaction.atomic.")
    # of=("self",) and no ordering: Wallet's Meta.ordering would join family and ticket type,
    # and FOR UPDATE would lock their rows too.
    wallets = Wallet.objects.select_for_update(of=("self",)).order_by()
    try:
        return wallets.get(family_id=family_id, ticket_type_id=ticket_type_id)
    except Wallet.DoesNotExist:
        # get_or_create survives a concurrent creation (unique family + ticket type).
        Wallet.objects.get_or_create(family_id=family_id, ticket_type_id=ticket_type_id)
        return wallets.get(family_id=family_id, ticket_type_id=ticket_type_id)


def apply_entry(locked_wallet, quantity, kind, *, reason="", by=None, agent=None, booking=None,
                attendance=None):
    """Append one entry to a wallet the caller has locked (lock_wallet), and move the cached
    balance by the same quantity. The balance is changed in the database (balance + quantity),
    never written from what was read: if a path ever forgot the lock, the CHECK (balance >= 0)
    would still refuse the second of two debits instead of losing one."""
    if locked_wallet.balance + quantity < 0:
        raise WalletError(_("Solde insuffisant : il reste %(n)d ticket(s).") % {"n": locked_wallet.balance})
    entry = LedgerEntry.objects.create(wallet=locked_wallet, kind=kind, quantity=quantity, reason=reason,
                                       by=by, agent=agent, booking=booking, attendance=attendance)
    Wallet.objects.filter(pk=locked_wallet.pk).update(balance=F("balance") + quantity)
    locked_wallet.balance += quantity
    return entry


def wallet_debt(wallet):
    """Penalty tickets the wallet still owes (paid back by the next purchase)."""
    from django.db.models import Sum

    return wallet.debts.filter(remaining__gt=0).aggregate(n=Sum("remaining"))["n"] or 0


def settle_debts(locked_wallet, *, by=None):
    """A purchase first pays back the penalty tickets the wallet lacked (oldest debt first), each
    as a penalty entry linked to the same roll-call mark. Call it under the wallet's lock, right
    after crediting the purchase."""
    from portal.models import TicketDebt

    paid = 0
    for debt in (TicketDebt.objects.select_for_update().filter(wallet=locked_wallet, remaining__gt=0)
                 .select_related("attendance__roll_call__service")
                 .order_by("created_at", "pk")):
        take = min(debt.remaining, locked_wallet.balance)
        if take <= 0:
            break
        mark = debt.attendance
        apply_entry(locked_wallet, -take, LedgerEntry.Kind.PENALTY, by=by, attendance=mark,
                    reason=_("Pénalité due du %(day)s (%(service)s), retenue sur l’achat")
                    % {"day": f"{mark.roll_call.date:%d/%m/%Y}", "service": mark.roll_call.service.name})
        debt.remaining -= take
        debt.save(update_fields=["remaining"])
        paid += take
    return paid


def _check_quantity(quantity):
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise WalletError(_("Le nombre de tickets doit être un entier positif."))


def credit_tickets(wallet, quantity, reason, *, by, kind=LedgerEntry.Kind.ADJUSTMENT):
    """Add tickets (agent adjustment or purchase). The reason is kept in the ledger."""
    _check_quantity(quantity)
    if kind == LedgerEntry.Kind.ADJUSTMENT and not reason.strip():
        raise WalletError(_("Indiquez le motif."))
    with transaction.atomic():
        locked = lock_wallet(wallet.family_id, wallet.ticket_type_id)
        agent = by if kind == LedgerEntry.Kind.ADJUSTMENT else None
        entry = apply_entry(locked, quantity, kind, reason=reason.strip(), by=by, agent=agent)
        if kind == LedgerEntry.Kind.PURCHASE:
            settle_debts(locked, by=by)
    wallet.balance = locked.balance
    return entry


def debit_tickets(wallet, quantity, reason, *, by, kind=LedgerEntry.Kind.ADJUSTMENT):
    """Remove tickets (agent correction or penalty); refused if the balance would go negative."""
    _check_quantity(quantity)
    if not reason.strip():
        raise WalletError(_("Indiquez le motif."))
    with transaction.atomic():
        locked = lock_wallet(wallet.family_id, wallet.ticket_type_id)
        entry = apply_entry(locked, -quantity, kind, reason=reason.strip(), by=by, agent=by)
    wallet.balance = locked.balance
    return entry


def redact_reasons(wallet_ids, text):
    """Replace the reason of every entry of these wallets by `text` (an anonymised family's:
    agents' free texts and older entries may name a child or repeat an absence's reason). The
    one way around the ledger's append-only guards, and only for `reason`: kind, quantity,
    dates and links stay, so balances and check_wallets do not move. On PostgreSQL the trigger
    lets these UPDATEs through only while this transaction's setting is on, and only when no
    other column changes. Returns the number of entries rewritten."""
    if connection.get_autocommit():
        raise TransactionManagementError("redact_reasons() must run inside transaction.atomic.")
    entries = LedgerEntry.objects.filter(wallet_id__in=list(wallet_ids)).exclude(reason=text)
    rawsql.set_ledger_redaction(True)
    # QuerySet.update, not the append-only manager's refusal: the exception described above. If
    # it fails, the transaction (or savepoint) rolls back and the setting with it.
    count = QuerySet.update(entries, reason=text)
    rawsql.set_ledger_redaction(False)
    return count


def find_inconsistencies():
    """Every wallet whose cached balance differs from its ledger, and every booking whose
    ledger entries do not match its state. Empty list: all is well.

    The sums and counts are compared in the database (GROUP BY … HAVING): only the rows found
    wrong come back to Python. Entries are counted by their kind, which the covering index
    ledger_booking_kind_qty holds, so PostgreSQL reads a school year's entries from the index
    alone."""
    from django.db.models import Count, F, Q, Sum
    from django.db.models.functions import Coalesce

    from portal.models import Booking

    problems = []
    wrong = (Wallet.objects.order_by().values("pk")
             .annotate(total=Coalesce(Sum("entries__quantity"), 0)).filter(~Q(balance=F("total"))))
    totals = {row["pk"]: row["total"] for row in wrong}
    for w in Wallet.objects.filter(pk__in=totals).select_related("family", "ticket_type").order_by("pk"):
        problems.append(_("Porte-monnaie %(pk)d (%(w)s) : solde %(b)d, somme du journal %(t)d.")
                        % {"pk": w.pk, "w": w, "b": w.balance, "t": totals[w.pk]})
    kind = LedgerEntry.Kind
    refunded = Q(status=Booking.Status.CANCELLED, refunded=True)
    bookings = (Booking.objects.order_by().annotate(
        debits=Count("entries__kind", filter=Q(entries__kind=kind.BOOKING, entries__quantity=-1)),
        refunds=Count("entries__kind", filter=Q(entries__kind=kind.CANCELLATION, entries__quantity=1)),
        others=Count("entries__kind", filter=~Q(entries__kind__in=[kind.BOOKING, kind.CANCELLATION])),
    ).filter(~Q(debits=1) | Q(others__gt=0) | (refunded & ~Q(refunds=1)) | (~refunded & ~Q(refunds=0)))
        .values_list("pk", "debits", "refunds", "status").order_by("pk"))
    for pk, debits, refunds, status in bookings:
        problems.append(_("Réservation %(pk)d : %(d)d débit(s), %(r)d remboursement(s), état %(s)s.")
                        % {"pk": pk, "d": debits, "r": refunds, "s": status})
    return problems + _attendance_inconsistencies()


def _attendance_inconsistencies():
    """A roll-call mark's penalty is what its penalty entries took plus what its debt still
    waits for; an excused absence has exactly one ticket given back."""
    from django.db.models import Count, Q, Sum

    from portal.models import AttendanceMark

    problems = []
    marks = (AttendanceMark.objects
             .filter(Q(penalty__gt=0) | Q(excused_at__isnull=False)
                     | Q(pk__in=LedgerEntry.objects.filter(attendance__isnull=False).values("attendance")))
             .annotate(taken=Sum("entries__quantity", filter=Q(entries__kind=LedgerEntry.Kind.PENALTY)),
                       excuses=Count("entries", filter=Q(entries__kind=LedgerEntry.Kind.EXCUSE,
                                                         entries__quantity=1)),
                       others=Count("entries", filter=~Q(entries__kind__in=[LedgerEntry.Kind.PENALTY,
                                                                            LedgerEntry.Kind.EXCUSE])))
             .select_related("debt").order_by("pk"))
    for m in marks:
        owed = m.debt.remaining if hasattr(m, "debt") else 0
        expected_excuses = 1 if m.excused_at else 0
        if -(m.taken or 0) + owed != m.penalty or m.excuses != expected_excuses or m.others:
            problems.append(_("Pointage %(pk)d : pénalité %(p)d, retenu %(t)d, dette %(d)d, "
                              "%(e)d ticket(s) rendu(s).")
                            % {"pk": m.pk, "p": m.penalty, "t": -(m.taken or 0), "d": owed,
                               "e": m.excuses})
    return problems


def family_balances(family, unit_prices):
    """Per ticket type a service uses or the family holds: its balance, the family's unit price
    (cents, or None) and the penalty tickets still owed. `unit_prices` is
    purchases.prices(family) (the payments floor builds on this one, not the reverse)."""
    from django.db.models import Sum

    from portal.models import Service, TicketDebt, TicketType

    wallets = {w.ticket_type_id: w for w in Wallet.objects.filter(family=family)}
    used_types = TicketType.objects.filter(pk__in=Service.objects.values("ticket_type")) | \
        TicketType.objects.filter(pk__in=list(wallets))
    # Penalty tickets the wallet lacked at a roll-call's closing: the next purchase pays them first.
    debts = dict(TicketDebt.objects.filter(wallet__family=family, remaining__gt=0)
                 .values("wallet__ticket_type").annotate(n=Sum("remaining"))
                 .values_list("wallet__ticket_type", "n"))
    return [{"ticket_type": t, "balance": wallets[t.pk].balance if t.pk in wallets else 0,
             "unit_cents": unit_prices.get(t.pk), "debt": debts.get(t.pk, 0)}
            for t in used_types.distinct().order_by("name")]


def ledger_entries(family):
    """The family's ledger, newest first (LedgerEntry's ordering), ready to page."""
    return (LedgerEntry.objects.filter(wallet__family=family)
            .select_related("wallet__ticket_type", "booking__child", "booking__service",
                            "attendance__child"))
