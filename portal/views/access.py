"""Every family-facing lookup goes through here: anything not yours is a 404."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404

from portal.models import Child, Family, FileItem, RegulationAcceptance

REVIEW_PERMISSION = "portal.review_family"
HEALTH_PERMISSION = "portal.view_health_data"


class SecondFactorRequired(Exception):
    """Raised where staff would read another family's data on a password alone; the
    AgentTwoFactorMiddleware answers it with the TOTP step."""


def needs_second_factor(user):
    """With PREAU_ADMIN_REQUIRE_2FA, whether this logged-in user has not passed the TOTP step."""
    if not settings.PREAU_ADMIN_REQUIRE_2FA:
        return False
    is_verified = getattr(user, "is_verified", None)
    return is_verified is None or not is_verified()


def require_second_factor(user):
    """The one check every view showing staff other families' data goes through (after the
    view has decided the user is staff): a password alone never opens another family's files,
    health data or day lists when the second factor is required."""
    if needs_second_factor(user):
        raise SecondFactorRequired


def staff_may_read(user, permission):
    """Whether `user` may read other families' data under `permission` (see above)."""
    if not user.has_perm(permission):
        return False
    require_second_factor(user)
    return True


def get_family_for_user(user):
    family = Family.objects.filter(guardians=user).order_by("pk").first()
    if family is None:
        raise Http404("No family for this user.")
    return family


def get_child_for_family(user, child_id):
    return get_object_or_404(Child.objects.select_related("family", "school"),
                             pk=child_id, family__guardians=user)


def _own_or_staff(queryset, pk, user, permission):
    """The object if it is the caller's family's; another family's only for staff holding
    `permission` (past the second factor); a 404 for everyone else."""
    own = queryset.filter(pk=pk, family__guardians=user).first()
    if own is not None:
        return own
    if staff_may_read(user, permission):
        return get_object_or_404(queryset, pk=pk)
    raise Http404


def get_child_for_health_data(user, child_id):
    """The PAI document: the child's own family, or staff allowed to see health data."""
    return _own_or_staff(Child.objects.all(), child_id, user, HEALTH_PERMISSION)


def get_file_item_for_user(user, item_id):
    return _own_or_staff(FileItem.objects.exclude(file=""), item_id, user, REVIEW_PERMISSION)


def get_acceptance_for_user(user, acceptance_id):
    queryset = RegulationAcceptance.objects.select_related("family", "accepted_by")
    return _own_or_staff(queryset, acceptance_id, user, REVIEW_PERMISSION)


def posted(request):
    """Form data on POST, None on GET: an empty POST must still bind the form and show errors."""
    return request.POST if request.method == "POST" else None


def posted_files(request):
    return request.FILES if request.method == "POST" else None
