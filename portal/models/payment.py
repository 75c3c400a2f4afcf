"""Purchases of tickets, what Stripe told us, receipts, refunds and disputes.

Exactly-once crediting rests on the database: a purchase points at most once to the ledger
entry that credited it (unique), a Checkout Session belongs to one purchase (unique), a Stripe
event is stored once (unique), and a receipt number is unique within its year.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.money import euros

from .family import Family
from .service import TicketType
from .wallet import LedgerEntry


class Purchase(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("En attente de paiement")
        PAID = "paid", _("Payé")
        FAILED = "failed", _("Paiement refusé")
        EXPIRED = "expired", _("Expiré")
        CANCELLED = "cancelled", _("Abandonné")

    class Method(models.TextChoices):
        CARD = "card", _("Carte bancaire en ligne")
        DEMO = "demo", _("Paiement de démonstration")
        CASH = "cash", _("Espèces")
        CHEQUE = "cheque", _("Chèque")
        CESU = "cesu", _("CESU")
        TRANSFER = "transfer", _("Virement")

    ONLINE_METHODS = (Method.CARD, Method.DEMO)
    TOWN_HALL_METHODS = (Method.CASH, Method.CHEQUE, Method.CESU, Method.TRANSFER)

    # Made when the buy form is shown: a double submission finds the same purchase again.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="purchases",
                               verbose_name=_("famille"))
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="purchases",
                                    verbose_name=_("type de ticket"))
    quantity = models.PositiveIntegerField(_("tickets"))
    unit_cents = models.PositiveIntegerField(_("prix unitaire (centimes)"))
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"))
    method = models.CharField(_("moyen de paiement"), max_length=10, choices=Method.choices)
    reference = models.CharField(_("référence"), max_length=100, blank=True,
                                 help_text=_("Numéro de chèque, de CESU ou de virement."))
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.PENDING,
                             db_index=True)
    provider = models.CharField(_("prestataire"), max_length=10, blank=True)
    session_id = models.CharField(_("session de paiement"), max_length=255, null=True, blank=True,
                                  unique=True)
    checkout_url = models.URLField(_("page de paiement"), max_length=1000, blank=True)
    payment_id = models.CharField(_("paiement chez le prestataire"), max_length=255, null=True,
                                  blank=True, unique=True)
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="purchase", verbose_name=_("crédit"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("par"))
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    paid_at = models.DateTimeField(_("payé le"), null=True, blank=True, db_index=True)
    refunded_quantity = models.PositiveIntegerField(_("tickets remboursés"), default=0)
    refunded_cents = models.PositiveIntegerField(_("montant remboursé (centimes)"), default=0)

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The payments listing: a period, newest first, read from the index (bench/README.md).
            models.Index(fields=["created_at", "id"], name="purchase_created_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="purchase_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(amount_cents=models.F("quantity") * models.F("unit_cents")),
                name="purchase_amount_is_quantity_times_price"),
            # Paid means credited, and credited means paid.
            models.CheckConstraint(
                condition=(models.Q(state="paid", ledger_entry__isnull=False, paid_at__isnull=False)
                           | (~models.Q(state="paid") & models.Q(ledger_entry__isnull=True))),
                name="purchase_paid_iff_credited"),
            models.CheckConstraint(condition=models.Q(refunded_quantity__lte=models.F("quantity")),
                                   name="purchase_refund_within_quantity"),
            models.CheckConstraint(condition=models.Q(refunded_cents__lte=models.F("amount_cents")),
                                   name="purchase_refund_within_amount"),
        ]

    def __str__(self):
        return _("%(n)d × %(type)s — %(family)s") % {"n": self.quantity, "type": self.ticket_type,
                                                      "family": self.family}

    @property
    def is_paid(self):
        return self.state == self.State.PAID

    @property
    def amount_display(self):
        return euros(self.amount_cents)

    @property
    def unit_display(self):
        return euros(self.unit_cents)


class StripeEvent(models.Model):
    """Every webhook event as received, stored once by its Stripe id."""

    event_id = models.CharField(_("événement"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(_("contenu"))
    received_at = models.DateTimeField(_("reçu le"), auto_now_add=True)
    processed_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)

    class Meta:
        verbose_name = _("événement Stripe")
        verbose_name_plural = _("événements Stripe")
        ordering = ["-received_at", "-pk"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class DemoCheckoutSession(models.Model):
    """What the demo provider keeps in place of Stripe's servers."""

    session_id = models.CharField(max_length=100, unique=True)
    purchase_token = models.UUIDField(unique=True)
    amount_cents = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, default="open")  # open, paid, failed, expired
    success_url = models.CharField(max_length=1000)
    cancel_url = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("session de paiement de démonstration")
        verbose_name_plural = _("sessions de paiement de démonstration")

    def __str__(self):
        return self.session_id


class ReceiptCounter(models.Model):
    """The last receipt number of a year; locked to hand out the next one, so numbers have no gap."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class Receipt(models.Model):
    purchase = models.OneToOneField(Purchase, on_delete=models.PROTECT, related_name="receipt",
                                    verbose_name=_("paiement"))
    year = models.PositiveSmallIntegerField(_("année"))
    number = models.PositiveIntegerField(_("numéro"))
    issued_at = models.DateTimeField(_("émis le"))

    class Meta:
        verbose_name = _("reçu")
        verbose_name_plural = _("reçus")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="receipt_unique_number_per_year"),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return f"{self.year}-{self.number:06d}"


class Refund(models.Model):
    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="refunds",
                                 verbose_name=_("paiement"))
    quantity = models.PositiveIntegerField(_("tickets retirés"))
    amount_cents = models.PositiveIntegerField(_("montant remboursé (centimes)"))
    reason = models.CharField(_("motif"), max_length=255)
    provider_refund_id = models.CharField(_("remboursement chez le prestataire"), max_length=255,
                                          null=True, blank=True, unique=True)
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="refund", verbose_name=_("débit"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                           related_name="+", verbose_name=_("par"))
    created_at = models.DateTimeField(_("le"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("remboursement")
        verbose_name_plural = _("remboursements")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.purchase} − {euros(self.amount_cents)}"


class Dispute(models.Model):
    """A card payment contested by the cardholder's bank (Stripe dispute)."""

    dispute_id = models.CharField(_("litige"), max_length=255, unique=True)
    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="disputes", verbose_name=_("paiement"))
    payment_id = models.CharField(_("paiement chez le prestataire"), max_length=255, blank=True)
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"), default=0)
    reason = models.CharField(_("motif"), max_length=100, blank=True)
    status = models.CharField(_("état"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("ouvert le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("litige")
        verbose_name_plural = _("litiges")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.dispute_id} ({self.status})"
