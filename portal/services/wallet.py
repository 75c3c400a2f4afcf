"""Ticket wallets: every change is one ledger entry, written under a lock on the wallet row."""

from django.db import connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.utils.translation import gettext as _

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


def apply_entry(locked_wallet, quantity, kind, *, reason="", by=None, agent=None, booking=None):
    """Append one entry to a wallet the caller has locked (lock_wallet), and move the cached
    balance by the same quantity. The balance is changed in the database (balance + quantity),
    never written from what was read: if a path ever forgot the lock, the CHECK (balance >= 0)
    would still refuse the second of two debits instead of losing one."""
    if locked_wallet.balance + quantity < 0:
        raise WalletError(_("Solde insuffisant : il reste %(n)d ticket(s).") % {"n": locked_wallet.balance})
    entry = LedgerEntry.objects.create(wallet=locked_wallet, kind=kind, quantity=quantity, reason=reason,
                                       by=by, agent=agent, booking=booking)
    Wallet.objects.filter(pk=locked_wallet.pk).update(balance=F("balance") + quantity)
    locked_wallet.balance += quantity
    return entry


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


def find_inconsistencies():
    """Every wallet whose cached balance differs from its ledger, and every booking whose
    ledger entries do not match its state. Empty list: all is well."""
    from django.db.models import Count, Q, Sum

    from portal.models import Booking

    problems = []
    for w in Wallet.objects.annotate(total=Sum("entries__quantity")).order_by("pk"):
        if w.balance != (w.total or 0):
            problems.append(_("Porte-monnaie %(pk)d (%(w)s) : solde %(b)d, somme du journal %(t)d.")
                            % {"pk": w.pk, "w": w, "b": w.balance, "t": w.total or 0})
    bookings = Booking.objects.annotate(
        debits=Count("entries", filter=Q(entries__kind=LedgerEntry.Kind.BOOKING, entries__quantity=-1)),
        refunds=Count("entries", filter=Q(entries__kind=LedgerEntry.Kind.CANCELLATION,
                                          entries__quantity=1)),
        others=Count("entries", filter=~Q(entries__kind__in=[LedgerEntry.Kind.BOOKING,
                                                             LedgerEntry.Kind.CANCELLATION])),
    ).order_by("pk")
    for b in bookings:
        expected_refunds = 1 if b.status == Booking.Status.CANCELLED and b.refunded else 0
        if b.debits != 1 or b.refunds != expected_refunds or b.others:
            problems.append(_("Réservation %(pk)d : %(d)d débit(s), %(r)d remboursement(s), état %(s)s.")
                            % {"pk": b.pk, "d": b.debits, "r": b.refunds, "s": b.status})
    return problems
