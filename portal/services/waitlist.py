"""The waiting lists as agents read them: each entry's place in its list and its state as shown
on a given day. Signing up, leaving and giving a freed place are rules of booking.py."""

from django.db.models import Case, IntegerField, Q, When
from django.utils.translation import gettext_lazy as _

from portal.models import WaitlistEntry

WAITING = WaitlistEntry.Status.WAITING
EXPIRED = "expired"

# The states an agent filters on: the stored ones, and « expirée » (still waiting when its day
# passed, see WaitlistEntry.state_label).
STATE_CHOICES = [
    (WAITING.value, WAITING.label),
    (WaitlistEntry.Status.BOOKED.value, WaitlistEntry.Status.BOOKED.label),
    (WaitlistEntry.Status.LEFT.value, WaitlistEntry.Status.LEFT.label),
    (EXPIRED, _("Expirée")),
]


def state_q(state, today):
    """The entries in `state` (one of STATE_CHOICES) as shown on `today`."""
    if state == WAITING:
        return Q(status=WAITING, date__gte=today)
    if state == EXPIRED:
        return Q(status=WAITING, date__lt=today)
    return Q(status=state)


def with_positions(queryset, today):
    """Annotate `position`: 1, 2, 3… among the entries still waiting for the same service and
    day, in sign-up order (WaitlistEntry.position, the count the families' planning makes);
    None once an entry has left the list or its day has passed. A count per row served by the
    (service, date, status) index, in the listing's one query: a window function over the
    listed rows would number them again as soon as an agent filters by school or searches a
    name."""
    return queryset.annotate(position=Case(
        When(status=WAITING, date__gte=today, then=WaitlistEntry.position()),
        default=None, output_field=IntegerField()))


def coming_entries(family, today):
    """A household's entries still waiting on coming days, with their positions (one query)."""
    entries = WaitlistEntry.objects.filter(state_q(WAITING, today), family=family)
    return with_positions(entries.select_related("child", "service"), today).order_by("date", "service", "pk")
