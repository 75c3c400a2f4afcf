from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from documents.models import private_storage

from .booking import Booking
from .family import Child, School
from .service import Service


class StaffAssignment(models.Model):
    """A periscolar staff member (group Animateurs) working in a school: they see that school's
    day lists and roll-call, nothing else."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="staff_assignments", verbose_name=_("animateur"))
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="staff_assignments",
                               verbose_name=_("école"))

    class Meta:
        verbose_name = _("affectation d’animateur")
        verbose_name_plural = _("affectations des animateurs")
        ordering = ["school", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "school"], name="staffassignment_unique"),
        ]
        permissions = [
            ("view_day_lists", _("Peut voir les listes du jour et faire l’appel (écoles affectées)")),
            ("view_all_schools", _("Voit les listes et l’appel de toutes les écoles, à toute date")),
        ]

    def __str__(self):
        return f"{self.user} — {self.school}"


class RollCall(models.Model):
    """The roll-call of one school's service on one day; closing it applies the regulation."""

    # Not in Wagtail's reference index: one row per school, service and day.
    wagtail_reference_index_ignore = True

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="roll_calls",
                               verbose_name=_("école"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="roll_calls",
                                verbose_name=_("prestation"))
    date = models.DateField(_("jour"))
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("clos par"))

    class Meta:
        verbose_name = _("appel")
        verbose_name_plural = _("appels")
        ordering = ["-date", "school", "service"]
        constraints = [
            models.UniqueConstraint(fields=["school", "service", "date"], name="rollcall_one_per_day"),
        ]

    def __str__(self):
        return f"{self.service} — {self.school} — {self.date:%d/%m/%Y}"

    @property
    def is_closed(self):
        return self.closed_at is not None


class AttendanceMark(models.Model):
    """One child's mark in a roll-call: present or absent. One per child and roll-call, so the
    same tap posted twice (retry, double tap) makes one record; a correction updates it and is
    audit-logged with who and when."""

    wagtail_reference_index_ignore = True

    roll_call = models.ForeignKey(RollCall, on_delete=models.PROTECT, related_name="marks",
                                  verbose_name=_("appel"))
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="attendance_marks",
                              verbose_name=_("enfant"))
    # The booking the child had when first marked; None: present without a booking.
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="attendance_marks", verbose_name=_("réservation"))
    present = models.BooleanField(_("présent"))
    created_at = models.DateTimeField(_("pointé le"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("pointé par"))
    changed_at = models.DateTimeField(_("modifié le"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("modifié par"))
    # Set when the roll-call is closed: tickets charged for a presence without booking (ledger
    # entries now, plus a debt for what the wallet lacked).
    penalty = models.PositiveSmallIntegerField(_("pénalité (tickets)"), default=0)
    excused_at = models.DateTimeField(_("excusé le"), null=True, blank=True)
    excused_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("excusé par"))
    excuse_reason = models.CharField(_("motif de l’excuse"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("pointage")
        verbose_name_plural = _("pointages")
        ordering = ["roll_call", "child"]
        constraints = [
            models.UniqueConstraint(fields=["roll_call", "child"], name="attendancemark_one_per_child"),
            # Only a booked child's absence can be excused (its ticket is given back).
            models.CheckConstraint(
                condition=models.Q(excused_at__isnull=True)
                | models.Q(present=False, booking__isnull=False),
                name="attendancemark_excuse_only_booked_absence"),
        ]

    def __str__(self):
        return f"{self.child} — {self.roll_call}"


class AbsenceReport(models.Model):
    """A family reports a booked child absent (sick the same morning, or past the cancellation
    deadline); an agent accepts it (ticket back, per the service's rule) or refuses it."""

    class State(models.TextChoices):
        PENDING = "pending", _("En attente")
        ACCEPTED = "accepted", _("Acceptée")
        REFUSED = "refused", _("Refusée")

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="absence_reports",
                              verbose_name=_("enfant"))
    # The household whose booked day it is: it sees the report, gets the answer and the ticket.
    family = models.ForeignKey("portal.Family", on_delete=models.CASCADE, related_name="absence_reports",
                               verbose_name=_("foyer"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="absence_reports",
                                verbose_name=_("prestation"))
    date = models.DateField(_("jour"))
    reason = models.CharField(_("motif"), max_length=255)
    certificate = models.FileField(_("certificat"), upload_to="absences/%Y", storage=private_storage,
                                   blank=True, max_length=255)
    certificate_type = models.CharField(_("type de fichier"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("signalée le"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("signalée par"))
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.PENDING,
                             db_index=True)
    reviewed_at = models.DateTimeField(_("traitée le"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("traitée par"))
    response = models.TextField(_("réponse de la mairie"), blank=True)
    refunded = models.BooleanField(_("ticket rendu"), default=False)

    class Meta:
        verbose_name = _("absence signalée")
        verbose_name_plural = _("absences signalées")
        ordering = ["-date", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["child", "service", "date"], name="absencereport_one_per_day"),
            models.CheckConstraint(condition=~models.Q(state="refused") | ~models.Q(response=""),
                                   name="absencereport_refusal_has_message"),
        ]

    def __str__(self):
        return f"{self.child} — {self.service} — {self.date:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.family_id is None and self.child_id is not None:  # reported by the child's family
            self.family_id = self.child.family_id
        super().save(*args, **kwargs)
