"""Who may reach which object: every view looks objects up through these `access_*` helpers.

Anything that is not the user's (another family's child, file, booking, payment) is a 404, the
same answer as an object that does not exist. One condition per line, like zulip's access_*.
"""

import uuid

from django.conf import settings
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from portal import rawsql
from portal.models import (
    AbsenceReport,
    Booking,
    Child,
    Family,
    FileItem,
    Purchase,
    RegulationAcceptance,
    WaitlistEntry,
)

REVIEW_PERMISSION = "portal.review_family"
HEALTH_PERMISSION = "portal.view_health_data"
ANONYMISE_PERMISSION = "portal.anonymise_family"


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


def is_agent(user):
    """A town agent: may cancel any family's booking and choose whether the ticket comes back."""
    return bool(user and user.is_active and (user.is_superuser or user.has_perm("portal.change_booking")))


def staff_may_read(user, permission):
    """Whether `user` may read other families' data under `permission` (see above)."""
    if not user.has_perm(permission):
        return False
    require_second_factor(user)
    return True


def _own_or_staff(queryset, pk, user, permission):
    """The object if it is the caller's family's; another family's only for staff holding
    `permission` (past the second factor); a 404 for everyone else."""
    own = queryset.filter(pk=pk, family__guardians=user).first()
    if own is not None:
        return own
    if staff_may_read(user, permission):
        return get_object_or_404(queryset, pk=pk)
    raise Http404


def family_of_guardian(user, families=None):
    """The family a user acts for: the first by primary key of those they are a guardian of, or
    None. The one rule for the web pages (access_family), the API (app_tokens.family_of_user)
    and, in SQL on the planning's hot path, rawsql.children_of_guardian. `families`: a Family
    queryset to read it from (with prefetches, say)."""
    families = Family.objects.all() if families is None else families
    return families.filter(guardians=user).order_by("pk").first()


def access_family(user):
    """The family the user is a guardian of (family_of_guardian), else 404."""
    family = family_of_guardian(user)
    if family is None:
        raise Http404("No family for this user.")
    return family


def access_children(user):
    """The children of the user's family (like access_family), family and school selected, in
    one query; a family without children costs a second query, and no family is a 404."""
    children = rawsql.children_of_guardian(user.pk)
    if not children:
        access_family(user)
    return children


def access_child(user, child_id):
    """A child of the user's family, family and school selected, in one query."""
    child = rawsql.child_of_guardian(user.pk, child_id)
    if child is None:
        raise Http404
    return child


def access_child_health(user, child_id):
    """The PAI document: the child's households (the sheet is shared), or staff allowed to see
    health data."""
    own = Child.objects.filter(Q(family__guardians=user) | Q(other_family__guardians=user), pk=child_id)
    if (child := own.first()) is not None:
        return child
    if staff_may_read(user, HEALTH_PERMISSION):
        return get_object_or_404(Child, pk=child_id)
    raise Http404


def access_file_item(user, item_id):
    return _own_or_staff(FileItem.objects.exclude(file=""), item_id, user, REVIEW_PERMISSION)


def access_absence_report(user, report_id):
    """A sick-day report: the child's own family, or an agent who reviews them."""
    reports = AbsenceReport.objects.select_related("child")
    own = reports.filter(pk=report_id, family__guardians=user).first()
    if own is not None:
        return own
    if staff_may_read(user, "portal.change_absencereport"):
        return get_object_or_404(reports, pk=report_id)
    raise Http404


def access_acceptance(user, acceptance_id):
    acceptances = RegulationAcceptance.objects.select_related("family", "accepted_by")
    return _own_or_staff(acceptances, acceptance_id, user, REVIEW_PERMISSION)


def access_booking(user, booking_id):
    """A booking of the user's household: the child's other household's is a 404 (it only sees
    « Réservé par l’autre foyer » in its planning, and cannot cancel it)."""
    booking = get_object_or_404(
        Booking.objects.select_related("child__school", "family", "service__ticket_type"),
        pk=booking_id, family__guardians=user)
    booking.child.seen_by(booking.family)
    return booking


def access_waitlist_entry(user, entry_id):
    """A waiting-list entry the user's household signed up."""
    entry = get_object_or_404(
        WaitlistEntry.objects.select_related("child__school", "family", "service__ticket_type"),
        pk=entry_id, family__guardians=user)
    entry.child.seen_by(entry.family)
    return entry


def access_paid_purchase(family, purchase_id):
    """A paid purchase of this family (so with a receipt)."""
    return get_object_or_404(Purchase.objects.select_related("family", "ticket_type", "receipt"),
                             pk=purchase_id, family=family, state=Purchase.State.PAID)


def access_purchase_by_token(family, token):
    """A purchase of this family by the token of its buy form (the return from the payment page)."""
    try:
        token = uuid.UUID(token or "")
    except ValueError as exc:
        raise Http404 from exc
    return get_object_or_404(Purchase.objects.select_related("ticket_type"), token=token, family=family)
