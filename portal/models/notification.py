from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .family import Family
from .service import TicketType


class SentNotification(models.Model):
    """One message Préau sent a family (portal/services/notify.py). `key` is unique: a
    scheduled run that meets a key already taken (same family and period, say) sends nothing,
    even when two runs overlap."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Rappel avant la date limite")
        LOW_BALANCE = "low_balance", _("Solde de tickets bas")
        BOOKINGS = "bookings", _("Récapitulatif des réservations")
        FILE = "file", _("Dossier de la famille")
        RECEIPT = "receipt", _("Reçu de paiement")
        TAX = "tax", _("Attestation de frais de garde")

    wagtail_reference_index_ignore = True

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="notifications",
                               verbose_name=_("famille"))
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    key = models.CharField(_("clé"), max_length=120, unique=True)
    ticket_type = models.ForeignKey(TicketType, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="+", verbose_name=_("type de ticket"))
    subject = models.CharField(_("objet du message"), max_length=255)
    recipients = models.CharField(_("destinataires"), max_length=500)
    sent_at = models.DateTimeField(_("envoyé le"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("notification envoyée")
        verbose_name_plural = _("notifications envoyées")
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["family", "kind", "sent_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.family} — {self.subject}"
