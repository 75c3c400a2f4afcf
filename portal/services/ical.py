"""A family's private calendar feed (iCalendar): its bookings per child and service and its
upcoming booking deadlines. The address carries a random token; a new token revokes the old one.
UIDs come from what an event stands for (a booking, a week's deadline), never from the time
the feed is generated, so a calendar app updates events instead of duplicating them."""

import datetime
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from portal.models import Booking, Child, Family, Service

from . import deadlines
from .audit import record_action
from .mail import absolute_url
from .notify import USUAL_PERIOD, week_label

PAST = datetime.timedelta(days=62)
FUTURE = datetime.timedelta(days=366)
DEADLINE_WEEKS = 6


def feed_url(family):
    if not family.calendar_token:
        return None
    return absolute_url(reverse("portal:calendar_feed", args=[family.calendar_token]))


@transaction.atomic
def renew_token(family, *, by):
    """Give the family a new feed address; the previous one answers 404 from now on."""
    family = Family.objects.select_for_update().get(pk=family.pk)
    family.calendar_token = secrets.token_urlsafe(32)
    family.save(update_fields=["calendar_token", "updated_at"])
    record_action(by, "calendar.renew", family, target=family)
    return family


@transaction.atomic
def revoke_token(family, *, by):
    family = Family.objects.select_for_update().get(pk=family.pk)
    family.calendar_token = None
    family.save(update_fields=["calendar_token", "updated_at"])
    record_action(by, "calendar.revoke", family, target=family)
    return family


def family_for_token(token):
    if not token:
        return None
    return Family.objects.filter(calendar_token=token).first()


def _domain():
    return urlsplit(settings.WAGTAILADMIN_BASE_URL).hostname or "preau"


def family_calendar(family, now=None):
    """The feed's bytes. Five queries whatever the number of bookings."""
    now = now or timezone.now()
    today = timezone.localtime(now, deadlines.PARIS).date()
    domain = _domain()
    with translation.override(settings.LANGUAGE_CODE):
        cal = Calendar()
        cal.add("prodid", "-//Préau//Planning périscolaire//FR")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("x-wr-calname", _("Périscolaire — %(family)s") % {"family": family.name})
        cal.add("x-wr-timezone", "Europe/Paris")
        bookings = list(Booking.objects.filter(
            family=family, status=Booking.Status.ACTIVE,
            date__range=(today - PAST, today + FUTURE),
        ).select_related("child__school", "service").order_by("date", "pk"))
        for booking in bookings:
            event = Event()
            event.add("uid", f"booking-{booking.pk}@{domain}")
            event.add("dtstamp", booking.created_at)
            event.add("dtstart", booking.date)
            event.add("dtend", booking.date + datetime.timedelta(days=1))
            event.add("summary", f"{booking.service.name} — {booking.child.first_name}")
            event.add("location", booking.child.school.name)
            event.add("transp", "TRANSPARENT")
            cal.add_component(event)
        for event in _deadline_events(family, now, today, domain):
            cal.add_component(event)
        if hasattr(cal, "add_missing_timezones"):
            cal.add_missing_timezones()
        return cal.to_ical()


def _deadline_events(family, now, today, domain):
    """For each of the next weeks, when the services the family's children use close for
    booking: one event per week and deadline, listing the services."""
    children = list(Child.objects.filter(Child.of_household(family.pk)))
    if not children:
        return []
    used = set(Booking.objects.filter(family=family, date__gte=today - USUAL_PERIOD)
               .values_list("child_id", "service_id").distinct())
    services = Service.for_schools(sorted({c.school_id for c in children}))
    monday = today - datetime.timedelta(days=today.weekday())
    last = monday + datetime.timedelta(weeks=DEADLINE_WEEKS, days=6)
    closures = deadlines.closures_between(monday, last)
    found = {}  # (monday, deadline) → [service names]
    for child in children:
        for service in services[child.school_id]:
            if (child.pk, service.pk) not in used:
                continue
            rule = deadlines.booking_rule(service)
            for week in range(DEADLINE_WEEKS + 1):
                start = monday + datetime.timedelta(weeks=week)
                limits = [deadlines.deadline(rule, day) for day in
                          (start + datetime.timedelta(days=i) for i in range(7))
                          if service.runs_on(day) and not deadlines.public_holiday_name(day)
                          and deadlines.closure_for(closures, child.school_id, service.pk, day) is None]
                limits = [limit for limit in limits if limit > now]
                if limits:
                    names = found.setdefault((start, min(limits)), [])
                    if service.name not in names:
                        names.append(service.name)
    events = []
    for (start, limit), names in sorted(found.items()):
        event = Event()
        event.add("uid", f"deadline-{family.pk}-{start:%Y%m%d}-{limit:%Y%m%dT%H%M%z}@{domain}")
        event.add("dtstamp", datetime.datetime.combine(start, datetime.time(0), tzinfo=datetime.UTC))
        event.add("dtstart", limit)
        event.add("dtend", limit)
        event.add("summary", _("Date limite de réservation : semaine du %(week)s (%(services)s)") % {
            "week": week_label(start), "services": ", ".join(names)})
        event.add("url", absolute_url(reverse("portal:planning") + f"?semaine={start.isoformat()}"))
        events.append(event)
    return events
