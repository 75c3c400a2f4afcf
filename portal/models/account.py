import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .family import Family


def hash_token(raw_token):
    return hashlib.sha256(raw_token.encode()).hexdigest()


class Invitation(models.Model):
    """A single-use link for a guardian to choose a password. Only the token's hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="invitations", verbose_name=_("responsable"))
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="invitations",
                               verbose_name=_("famille"), null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("envoyée le"), default=timezone.now)
    expires_at = models.DateTimeField(_("expire le"))
    used_at = models.DateTimeField(_("utilisée le"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("remplacée le"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("envoyée par"))

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user.email} ({self.created_at:%d/%m/%Y})"

    @property
    def is_expired(self):
        return timezone.now() >= self.expires_at

    @property
    def is_usable(self):
        return self.used_at is None and self.revoked_at is None and not self.is_expired


class AppToken(models.Model):
    """A token an app obtained with a guardian's e-mail and password (API v1). Only its hash is
    stored; the guardian sees it on their account page with its last use and can revoke it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="app_tokens", verbose_name=_("responsable"))
    name = models.CharField(_("appareil"), max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d’application")
        verbose_name_plural = _("jetons d’application")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name or self.public_id} ({self.user_id})"
