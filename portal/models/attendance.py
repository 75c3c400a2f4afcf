from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .family import School


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
