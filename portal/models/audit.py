from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from .family import Family


class AppendOnlyError(Exception):
    pass


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit log is append-only.")


class AuditLog(models.Model):
    """Who did what to which family, with the values before and after. Never edited."""

    # Not in Wagtail's reference index ("where is this object used"): an entry only points at
    # what it records, and indexing it queued a task for every audited action.
    wagtail_reference_index_ignore = True

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("auteur"))
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    family = models.ForeignKey(Family, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="audit_entries", verbose_name=_("famille"))
    target = models.CharField(_("objet"), max_length=255, blank=True)
    before = models.JSONField(_("avant"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("après"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("journal des actions")
        verbose_name_plural = _("journal des actions")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")
