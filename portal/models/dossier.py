from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from documents.models import PreauDocument, private_storage

from .family import Family, SchoolYear


class FileRequirement(models.Model):
    """One piece of the family file the town asks for, for one school year."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", _("Document à envoyer")
        REGULATION = "regulation", _("Acceptation du règlement")

    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE,
                                    related_name="file_requirements",
                                    verbose_name=_("année scolaire"))
    name = models.CharField(_("nom"), max_length=120, help_text=_("Ex. Attestation d’assurance"))
    help_text = models.TextField(_("aide pour les familles"), blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.UPLOAD)
    sort_order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    renew_yearly = models.BooleanField(
        _("à renouveler chaque année"), default=True,
        help_text=_("Au changement d’année, chaque famille renvoie cette pièce (ex. attestation "
                    "d’assurance). Décoché : la pièce acceptée l’an passé est reprise (ex. "
                    "copie du livret de famille)."))

    class Meta:
        verbose_name = _("pièce du dossier")
        verbose_name_plural = _("pièces du dossier")
        ordering = ["school_year", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school_year", "name"],
                                    name="filerequirement_unique_name_per_year"),
        ]

    def __str__(self):
        return f"{self.name} ({self.school_year})"


class FileItem(models.Model):
    """A family's answer to one requirement (uploads only; the regulation has its own record)."""

    class State(models.TextChoices):
        MISSING = "missing", _("À fournir")
        SENT = "sent", _("Envoyé, en attente de vérification")
        ACCEPTED = "accepted", _("Accepté")
        REFUSED = "refused", _("Refusé")
        # Sent for an earlier school year; the rollover asks for it again (renew_yearly).
        RENEW = "renew", _("À renouveler")

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="file_items",
                               verbose_name=_("famille"))
    requirement = models.ForeignKey(FileRequirement, on_delete=models.CASCADE,
                                    related_name="items", verbose_name=_("pièce"))
    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.MISSING, db_index=True)
    file = models.FileField(_("fichier"), upload_to="dossiers/%Y", storage=private_storage,
                            blank=True, max_length=255)
    original_name = models.CharField(_("nom du fichier envoyé"), max_length=255, blank=True)
    content_type = models.CharField(_("type de fichier"), max_length=50, blank=True)
    submitted_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("envoyé par"))
    reviewed_at = models.DateTimeField(_("vérifié le"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("vérifié par"))
    refusal_reason = models.TextField(_("motif du refus"), blank=True)

    class Meta:
        verbose_name = _("pièce envoyée")
        verbose_name_plural = _("pièces envoyées")
        ordering = ["family", "requirement__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["family", "requirement"],
                                    name="fileitem_one_per_family_requirement"),
            models.CheckConstraint(
                condition=~models.Q(state="refused") | ~models.Q(refusal_reason=""),
                name="fileitem_refusal_has_reason"),
        ]

    def __str__(self):
        return f"{self.requirement.name} — {self.family}"


class RegulationAcceptance(models.Model):
    """Who accepted which version of the regulation, and when: the récépissé."""

    family = models.ForeignKey(Family, on_delete=models.CASCADE,
                               related_name="regulation_acceptances", verbose_name=_("famille"))
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="regulation_acceptances",
                                    verbose_name=_("accepté par"))
    document = models.ForeignKey(PreauDocument, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("règlement"))
    # Copied so the receipt keeps saying what was accepted even if the document is edited later.
    document_title = models.CharField(_("titre du règlement"), max_length=255)
    version = models.CharField(_("version"), max_length=30, blank=True)
    accepted_at = models.DateTimeField(_("accepté le"), auto_now_add=True)

    class Meta:
        verbose_name = _("acceptation du règlement")
        verbose_name_plural = _("acceptations du règlement")
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["family", "document"],
                                    name="regulationacceptance_once_per_document"),
        ]

    def __str__(self):
        return f"{self.family} — {self.document_title} {self.version}"
