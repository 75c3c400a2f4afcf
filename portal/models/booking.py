from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .family import Child, Family
from .service import Service


class Booking(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Réservée")
        CANCELLED = "cancelled", _("Annulée")

    # Not in Wagtail's reference index: it would queue an indexing task with every booking
    # click, and "used by 40,000 bookings" on a service helps no agent.
    wagtail_reference_index_ignore = True

    # Indexed by booking_child_date (its first column), not by an index of its own.
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="bookings",
                              verbose_name=_("enfant"), db_index=False)
    # The household that booked and paid (the child's family, or its second household): its
    # wallet gets the ticket back, its guardians are told, only it may cancel.
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="bookings",
                               verbose_name=_("foyer"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings",
                                verbose_name=_("prestation"))
    date = models.DateField(_("jour"))
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("réservée le"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("réservée par"))
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("annulée par"))
    refunded = models.BooleanField(_("ticket rendu"), default=False)

    class Meta:
        verbose_name = _("réservation")
        verbose_name_plural = _("réservations")
        ordering = ["date", "service", "child"]
        constraints = [
            models.UniqueConstraint(fields=["child", "service", "date"],
                                    condition=models.Q(status="active"),
                                    name="booking_one_active_per_child_service_day"),
        ]
        indexes = [
            models.Index(fields=["service", "date", "status"]),
            # The agents' listing: a period of days, ordered by day then row (first page read
            # from the index, not by sorting the school year's bookings).
            models.Index(fields=["date", "id"], name="booking_date_id"),
            # A child's bookings over a period: the listing's search by name counts them from
            # the index alone (bench/README.md: 164 → 5 ms for a common surname).
            models.Index(fields=["child", "date"], name="booking_child_date"),
        ]

    def __str__(self):
        return f"{self.child} — {self.service} — {self.date:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.family_id is None and self.child_id is not None:  # booked by the child's family
            self.family_id = self.child.family_id
        super().save(*args, **kwargs)

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE
