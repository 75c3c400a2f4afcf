"""Dates, closures and deadlines, in Europe/Paris local time."""

import datetime
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from portal.models import Closure

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class DeadlineRule:
    kind: str  # Service.DeadlineKind value
    days: int = 0
    working_days: bool = False
    weekday: int = 3
    time: datetime.time = datetime.time(10, 0)


def booking_rule(service):
    return DeadlineRule(service.booking_rule, service.booking_days, service.booking_working_days,
                        service.booking_weekday, service.booking_time)


def cancel_rule(service):
    return DeadlineRule(service.cancel_rule, service.cancel_days, service.cancel_working_days,
                        service.cancel_weekday, service.cancel_time)


@lru_cache(maxsize=64)
def public_holidays(year):
    """French public holidays of a year, {date: name} (metropolitan calendar)."""
    return dict(holidays.France(years=year, language="fr"))


def public_holiday_name(day):
    return public_holidays(day.year).get(day)


def is_working_day(day):
    return day.weekday() < 5 and public_holiday_name(day) is None


def deadline(rule, day):
    """The last instant (aware, Europe/Paris) at which `day` may still be booked or cancelled."""
    if rule.kind == "weekly":
        # "Thursday 23:59 for the following week": the weekday of the week before day's week.
        monday = day - datetime.timedelta(days=day.weekday())
        limit_day = monday - datetime.timedelta(days=7 - rule.weekday)
    elif rule.working_days:
        limit_day, remaining = day, rule.days
        while remaining > 0:
            limit_day -= datetime.timedelta(days=1)
            if is_working_day(limit_day):
                remaining -= 1
    else:
        limit_day = day - datetime.timedelta(days=rule.days)
    # combine() with a ZoneInfo picks the offset of that date, so DST changes are handled.
    return datetime.datetime.combine(limit_day, rule.time, tzinfo=PARIS)


def is_before(rule, day, now):
    return now <= deadline(rule, day)


def closures_between(start, end):
    return list(Closure.objects.filter(start__lte=end, end__gte=start).order_by("start", "pk"))


def closure_for(closures, school_id, service_id, day):
    """The first closure covering this school, service and day, else None."""
    for closure in closures:
        if closure.start <= day <= closure.end and closure.applies_to(school_id, service_id):
            return closure
    return None


def month_days(year, month):
    first = datetime.date(year, month, 1)
    nxt = (first + datetime.timedelta(days=32)).replace(day=1)
    return [first + datetime.timedelta(days=i) for i in range((nxt - first).days)]


def school_holidays(zone, start, end):
    """School holidays of a zone (A/B/C) as [(name, first_day, last_day)], from the offline
    data of `vacances-scolaires-france`; weekends around them are included as they come."""
    from vacances_scolaires_france import SchoolHolidayDates

    data = SchoolHolidayDates()
    key = f"vacances_zone_{zone.lower()}"
    days = []
    for year in range(start.year, end.year + 1):
        try:
            for day, info in data.holidays_for_year(year).items():
                if info[key] and start <= day <= end:
                    days.append((day, info["nom_vacances"]))
        except Exception:  # the package raises for years it has no data for
            continue
    days.sort()
    periods = []
    for day, name in days:
        if periods and periods[-1][0] == name and periods[-1][2] + datetime.timedelta(days=1) == day:
            periods[-1][2] = day
        else:
            periods.append([name, day, day])
    return [tuple(p) for p in periods]


def import_holidays(start, end, zone, public):
    """Create the zone's school holidays (and optionally public holidays) once each; returns
    the closures created."""
    created = []
    for name, first, last in school_holidays(zone, start, end):
        closure, new = Closure.objects.get_or_create(
            kind=Closure.Kind.SCHOOL_HOLIDAY, start=first, end=last, school=None, service=None,
            defaults={"reason": name})
        if new:
            created.append(closure)
    if public:
        for year in range(start.year, end.year + 1):
            for day, name in sorted(public_holidays(year).items()):
                if start <= day <= end:
                    closure, new = Closure.objects.get_or_create(
                        kind=Closure.Kind.PUBLIC_HOLIDAY, start=day, end=day, school=None, service=None,
                        defaults={"reason": name})
                    if new:
                        created.append(closure)
    return created
