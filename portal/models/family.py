from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SchoolYear(models.Model):
    name = models.CharField(_("nom"), max_length=20, unique=True, help_text=_("Ex. 2026-2027"))
    start = models.DateField(_("rentrée"))
    end = models.DateField(_("fin des cours"))

    class Meta:
        verbose_name = _("année scolaire")
        verbose_name_plural = _("années scolaires")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="schoolyear_end_after_start"),
        ]

    def __str__(self):
        return self.name


class School(models.Model):
    name = models.CharField(_("nom"), max_length=120, unique=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("école")
        verbose_name_plural = _("écoles")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Family(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", _("Invitée")
        INCOMPLETE = "incomplete", _("Dossier incomplet")
        SUBMITTED = "submitted", _("Dossier envoyé")
        VALIDATED = "validated", _("Dossier validé")
        SUSPENDED = "suspended", _("Suspendue")

    name = models.CharField(_("nom du foyer"), max_length=150)
    guardians = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="families", verbose_name=_("responsables"),
        blank=True,
    )
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    status = models.CharField(_("état"), max_length=20, choices=Status.choices,
                              default=Status.INVITED, db_index=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    tariff_bracket = models.ForeignKey("portal.TariffBracket", on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="families",
                                       verbose_name=_("tranche tarifaire"))

    class Meta:
        verbose_name = _("famille")
        verbose_name_plural = _("familles")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_validated(self):
        return self.status == self.Status.VALIDATED


class Child(models.Model):
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="children",
                               verbose_name=_("famille"))
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    birth_date = models.DateField(_("date de naissance"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("école"))
    school_class = models.CharField(_("classe"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("enfant")
        verbose_name_plural = _("enfants")
        ordering = ["family", "first_name"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"
