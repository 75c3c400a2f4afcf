"""Every family-facing lookup goes through here: anything not yours is a 404."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from portal.models import Child, Family, FileItem, RegulationAcceptance

REVIEW_PERMISSION = "portal.review_family"
HEALTH_PERMISSION = "portal.view_health_data"


def get_family_for_user(user):
    family = Family.objects.filter(guardians=user).order_by("pk").first()
    if family is None:
        raise Http404("No family for this user.")
    return family


def get_child_for_family(user, child_id):
    return get_object_or_404(Child.objects.select_related("family", "school"),
                             pk=child_id, family__guardians=user)


def get_child_for_health_data(user, child_id):
    """The PAI document: the child's own family, or an agent allowed to see health data."""
    if user.has_perm(HEALTH_PERMISSION):
        return get_object_or_404(Child, pk=child_id)
    return get_child_for_family(user, child_id)


def get_file_item_for_user(user, item_id):
    if user.has_perm(REVIEW_PERMISSION):
        return get_object_or_404(FileItem.objects.exclude(file=""), pk=item_id)
    return get_object_or_404(FileItem.objects.exclude(file=""), pk=item_id,
                             family__guardians=user)


def get_acceptance_for_user(user, acceptance_id):
    queryset = RegulationAcceptance.objects.select_related("family", "accepted_by")
    if user.has_perm(REVIEW_PERMISSION):
        return get_object_or_404(queryset, pk=acceptance_id)
    return get_object_or_404(queryset, pk=acceptance_id, family__guardians=user)


def posted(request):
    """Form data on POST, None on GET: an empty POST must still bind the form and show errors."""
    return request.POST if request.method == "POST" else None


def posted_files(request):
    return request.FILES if request.method == "POST" else None
