from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .booking import Booking
from .family import Child, Family
from .service import Service


class WaitlistEntry(models.Model):
    """A child waiting for a place on a full day of a capacity-limited service. The order of
    the list is the order of the entries' primary keys: they are created under the service's
    row lock (booking.join_waitlist), so it is the order families signed up in."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("En attente")
        BOOKED = "booked", _("Place obtenue")
        LEFT = "left", _("Retiré de la liste")

    wagtail_reference_index_ignore = True

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="waitlist_entries",
                              verbose_name=_("enfant"))
    # The household that signed up: a place given is booked and paid from its wallet.
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="waitlist_entries",
                               verbose_name=_("foyer"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="waitlist_entries",
                                verbose_name=_("prestation"))
    date = models.DateField(_("jour"))
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(_("inscrit le"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("inscrit par"))
    ended_at = models.DateTimeField(_("sorti de la liste le"), null=True, blank=True)
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("réservation obtenue"))

    class Meta:
        verbose_name = _("inscription en liste d’attente")
        verbose_name_plural = _("listes d’attente")
        ordering = ["date", "service", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["child", "service", "date"],
                                    condition=models.Q(status="waiting"),
                                    name="waitlist_one_waiting_per_child_service_day"),
        ]
        indexes = [models.Index(fields=["service", "date", "status"])]

    # Shown, never stored: an entry still waiting once its day has passed (no place came free)
    # is expired, not waiting. Computed from the day, so no nightly sweep can be late.
    EXPIRED_LABEL = _("Expirée (le jour est passé sans place libre)")

    def __str__(self):
        return f"{self.child} — {self.service} — {self.date:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.family_id is None and self.child_id is not None:  # signed up by the child's family
            self.family_id = self.child.family_id
        super().save(*args, **kwargs)

    @classmethod
    def position(cls):
        """For annotate(): a waiting entry's place in its day's list (1 = next), counting the
        entries still waiting up to its own — the count rawsql.bookings_counts_wallets makes for
        the planning. Meaningless for an entry no longer waiting."""
        return Subquery(cls.objects.filter(service_id=OuterRef("service_id"), date=OuterRef("date"),
                                           status=cls.Status.WAITING, pk__lte=OuterRef("pk"))
                        .order_by().values("service_id").annotate(n=Count("pk")).values("n"))

    @classmethod
    def state_label(cls, status, day, today):
        """The label of an entry's state as shown on `today` (see EXPIRED_LABEL)."""
        if status == cls.Status.WAITING and day < today:
            return cls.EXPIRED_LABEL
        return cls.Status(status).label

    @property
    def current_state_label(self):
        """The state's label today (the agents' listing and its exports)."""
        return self.state_label(self.status, self.date, timezone.localdate())
