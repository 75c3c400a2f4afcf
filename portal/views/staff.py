"""Pages of the periscolar staff (Animateurs) and agents: the day's lists, the caterer's order.
Anything outside a user's schools and days is a 404, like another family's object."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import School, Service
from portal.services import attendance

from .access import require_second_factor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _staff(user):
    if not attendance.is_staff_member(user):
        raise Http404("Not a staff member.")
    require_second_factor(user)


def _agent(user):
    if not attendance.sees_all_schools(user):
        raise Http404("Agents only.")
    require_second_factor(user)


def parse_day(value, default=None):
    if not value:
        return default
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Http404("Bad date.") from None


def get_list_target(user, day, school_id, service_id):
    """The school and service of a day list the user may open, else 404."""
    school = get_object_or_404(attendance.staff_schools(user), pk=school_id)
    if not attendance.may_open(user, school, day):
        raise Http404("Day out of reach.")
    service = get_object_or_404(Service.objects.filter(schools=school), pk=service_id)
    return school, service


def export(filename, title, header, rows, fmt):
    if fmt == "csv":
        response = HttpResponse(attendance.to_csv(header, rows), content_type="text/csv; charset=utf-8")
        ext = "csv"
    else:
        response = HttpResponse(attendance.to_xlsx(title, header, rows), content_type=XLSX)
        ext = "xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}.{ext}"'
    return response


@login_required
def home(request):
    _staff(request.user)
    today = timezone.localdate()
    allowed = attendance.staff_days(request.user, today)
    day = parse_day(request.GET.get("jour"), today)
    if allowed is not None and day not in allowed:
        raise Http404("Day out of reach.")
    schools = attendance.staff_schools(request.user).order_by("name")
    listing = attendance.school_services(schools)
    counts = attendance.day_counts(day, [s for s, _services in listing])
    rows = [(school, [(service, counts.get((school.pk, service.pk), 0)) for service in services])
            for school, services in listing]
    return render(request, "portal/staff/home.html", {
        "day": day, "today": today, "allowed_days": allowed, "rows": rows,
        "is_agent": attendance.sees_all_schools(request.user),
        "previous": day - datetime.timedelta(days=1), "next": day + datetime.timedelta(days=1),
    })


@login_required
def day_list(request, day, school_id, service_id):
    _staff(request.user)
    day = parse_day(day)
    school, service = get_list_target(request.user, day, school_id, service_id)
    dl = attendance.day_list(school, service, day, with_pickup=attendance.sees_pickup(request.user),
                             with_health=attendance.sees_health_detail(request.user))
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        header, rows = attendance.day_list_table(dl)
        name = f"liste-{day:%Y-%m-%d}-{school.pk}-{service.pk}"
        return export(name, f"{service.name} {day:%d-%m-%Y}", header, rows, fmt)
    return render(request, "portal/staff/day_list.html", {"list": dl})


@login_required
def caterer(request):
    _agent(request.user)
    today = timezone.localdate()
    start = parse_day(request.GET.get("debut"), today + datetime.timedelta(days=1))
    try:
        count = min(max(int(request.GET.get("jours") or 10), 1), 30)
    except ValueError:
        count = 10
    lines = attendance.caterer_order(start, count, School.objects.order_by("name"))
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        header, rows = attendance.caterer_table(lines)
        return export(f"commande-traiteur-{start:%Y-%m-%d}", _("Commande"), header, rows, fmt)
    return render(request, "portal/staff/caterer.html", {
        "lines": lines, "start": start, "count": count, "diets": attendance.DIET_COLUMNS})
