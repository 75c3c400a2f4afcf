from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .family import Family
from .service import TicketType


class Wallet(models.Model):
    """One balance per family and ticket type; `balance` caches the ledger's sum.

    Every change locks this row (select_for_update) and the CHECK keeps it from ever going
    below zero, even if a code path forgot to check.
    """

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="wallets",
                               verbose_name=_("famille"))
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="wallets",
                                    verbose_name=_("type de ticket"))
    balance = models.IntegerField(_("solde"), default=0)

    class Meta:
        verbose_name = _("porte-monnaie")
        verbose_name_plural = _("porte-monnaie")
        ordering = ["family", "ticket_type"]
        constraints = [
            models.UniqueConstraint(fields=["family", "ticket_type"], name="wallet_unique_family_type"),
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="wallet_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.family} — {self.ticket_type}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Ledger entries are append-only: add a correcting entry instead.")

    def delete(self):
        raise TypeError("Ledger entries are append-only: add a correcting entry instead.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise TypeError("Ledger entries are append-only: add a correcting entry instead.")


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Achat")
        BOOKING = "booking", _("Réservation")
        CANCELLATION = "cancellation", _("Annulation")
        PENALTY = "penalty", _("Pénalité")
        EXCUSE = "excuse", _("Absence excusée")
        ADJUSTMENT = "adjustment", _("Ajustement par la mairie")

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries",
                               verbose_name=_("porte-monnaie"))
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    quantity = models.IntegerField(_("tickets"))
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                           related_name="+", verbose_name=_("par"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("agent"))
    booking = models.ForeignKey("portal.Booking", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="entries", verbose_name=_("réservation"))
    # The roll-call mark a penalty or an excused absence comes from.
    attendance = models.ForeignKey("portal.AttendanceMark", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="entries", verbose_name=_("pointage"))
    created_at = models.DateTimeField(_("le"), auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("mouvement")
        verbose_name_plural = _("mouvements")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(quantity=0), name="ledger_quantity_not_zero"),
            # One ticket given back per excused absence, whatever the retries.
            models.UniqueConstraint(fields=["attendance"], condition=models.Q(kind="excuse"),
                                    name="ledger_one_excuse_per_mark"),
        ]
        indexes = [
            # check_wallets counts each booking's entries by kind: with kind and quantity in the
            # index, a school year's 650,000 entries are read from it in booking order without
            # visiting the table (2.3 of 3.9 s before, on a loaded machine).
            models.Index(fields=["booking"], include=["kind", "quantity"], name="ledger_booking_kind_qty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("Ledger entries are append-only: add a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are append-only: add a correcting entry instead.")


class TicketDebt(models.Model):
    """Penalty tickets a wallet lacked when the roll-call was closed. The wallet never goes below
    zero: the debt waits here and the next purchase pays it back first (ledger entries linked to
    the same roll-call mark), `remaining` going down to zero."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="debts",
                               verbose_name=_("porte-monnaie"))
    attendance = models.OneToOneField("portal.AttendanceMark", on_delete=models.PROTECT,
                                      related_name="debt", verbose_name=_("pointage"))
    quantity = models.PositiveSmallIntegerField(_("tickets dus"))
    remaining = models.PositiveSmallIntegerField(_("reste à payer"))
    created_at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("dette de tickets")
        verbose_name_plural = _("dettes de tickets")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="ticketdebt_quantity_positive"),
            models.CheckConstraint(condition=models.Q(remaining__lte=models.F("quantity")),
                                   name="ticketdebt_remaining_within_quantity"),
        ]

    def __str__(self):
        return f"{self.wallet} : {self.remaining}/{self.quantity}"
