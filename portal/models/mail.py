from django.db import models
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """One e-mail Préau has to send: written in the transaction of the action that causes it,
    sent by the task worker (portal/services/mail.py), retried, and kept so agents see what
    is waiting or failed. The body and attachments are emptied once sent (a password-reset or
    a sign-in link must not stay in the database)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("Échec")

    created_at = models.DateTimeField(_("créé le"), auto_now_add=True, db_index=True)
    template = models.CharField(_("message"), max_length=60)
    recipients = models.JSONField(_("destinataires"), default=list)
    subject = models.CharField(_("objet du message"), max_length=255)
    body = models.TextField(_("texte"), blank=True)
    # [{"filename", "mimetype", "content" (base64)}], rendered with the message
    attachments = models.JSONField(_("pièces jointes"), default=list, blank=True)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.recipients)}"

    @property
    def recipients_display(self):
        return ", ".join(self.recipients)
