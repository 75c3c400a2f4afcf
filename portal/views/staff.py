"""Pages of the periscolar staff (Animateurs) and agents: the day's lists, the caterer's order.
Anything outside a user's schools and days is a 404, like another family's object."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.models import AbsenceReport, Child, School, Service
from portal.services import attendance
from portal.services.access import require_second_factor

from .downloads import as_download

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
    _staff(user)
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
    return as_download(response, f"{filename}.{ext}")


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


@login_required
def roll_call(request, day, school_id, service_id):
    day = parse_day(day)
    school, service = get_list_target(request.user, day, school_id, service_id)
    dl = attendance.day_list(school, service, day, with_pickup=attendance.sees_pickup(request.user),
                             with_health=attendance.sees_health_detail(request.user), with_marks=True)
    query = request.GET.get("q", "").strip()[:100]
    return render(request, "portal/staff/roll_call.html", {
        "list": dl, "query": query, "found": attendance.search_children(school, query),
        "may_mark": dl.closed is None and attendance.may_mark(request.user, day)
        and not (dl.roll_call and dl.roll_call.is_closed),
        "may_excuse": dl.closed is None and attendance.sees_all_schools(request.user),
    })


@login_required
@require_POST
def roll_call_mark(request, day, school_id, service_id):
    day = parse_day(day)
    school, service = get_list_target(request.user, day, school_id, service_id)
    url = reverse("staff:roll_call", args=[day.isoformat(), school.pk, service.pk])
    status = request.POST.get("statut")
    child_id = request.POST.get("enfant", "")
    if status not in ("present", "absent") or not child_id.isdigit():
        messages.error(request, _("Choisissez un enfant et « présent » ou « absent »."))
        return redirect(url)
    child = get_object_or_404(Child.objects.select_related("family"), pk=child_id, school=school)
    try:
        attendance.mark_child(school, service, day, child, present=status == "present", by=request.user)
    except attendance.RollCallError as exc:
        messages.error(request, exc.message)
    else:
        text = (_("%(name)s : présence enregistrée.") if status == "present"
                else _("%(name)s : absence enregistrée."))
        messages.success(request, text % {"name": child})
    return redirect(f"{url}#enfant-{child.pk}")


@login_required
@require_POST
def roll_call_close(request, day, school_id, service_id):
    day = parse_day(day)
    school, service = get_list_target(request.user, day, school_id, service_id)
    try:
        _roll_call, charged = attendance.close_roll_call(school, service, day, by=request.user)
    except attendance.RollCallError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Appel clos. Pénalités appliquées : %(n)d.") % {"n": charged})
    return redirect("staff:roll_call", day.isoformat(), school.pk, service.pk)


@login_required
@require_POST
def roll_call_excuse(request, day, school_id, service_id):
    day = parse_day(day)
    school, service = get_list_target(request.user, day, school_id, service_id)
    if not attendance.sees_all_schools(request.user):
        raise Http404("Agents only.")
    url = reverse("staff:roll_call", args=[day.isoformat(), school.pk, service.pk])
    child_id = request.POST.get("enfant", "")
    if not child_id.isdigit():
        messages.error(request, _("Choisissez un enfant."))
        return redirect(url)
    child = get_object_or_404(Child.objects.select_related("family", "school"), pk=child_id, school=school)
    try:
        attendance.excuse_absence(child, service, day, by=request.user, reason=request.POST.get("motif", ""))
    except attendance.RollCallError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s : absence excusée, ticket rendu à la famille.")
                         % {"name": child})
    return redirect(f"{url}#enfant-{child.pk}")


@login_required
def absence_queue(request):
    _agent(request.user)
    pending = (AbsenceReport.objects.filter(state=AbsenceReport.State.PENDING)
               .select_related("family", "child__school", "service", "created_by")
               .order_by("date", "created_at"))
    recent = (AbsenceReport.objects.exclude(state=AbsenceReport.State.PENDING)
              .select_related("child", "service", "reviewed_by").order_by("-reviewed_at")[:20])
    return render(request, "portal/staff/absences.html", {"pending": pending, "recent": recent})


@login_required
@require_POST
def absence_review(request, report_id):
    _agent(request.user)
    report = get_object_or_404(AbsenceReport, pk=report_id)
    decision = request.POST.get("decision")
    if decision not in ("accept", "refuse"):
        messages.error(request, _("Choisissez d’accepter ou de refuser."))
        return redirect("staff:absences")
    try:
        report = attendance.review_absence(report, accept=decision == "accept", by=request.user,
                                           message=request.POST.get("message", ""))
    except attendance.RollCallError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(report)s : %(state)s.") % {"report": report,
                                                                   "state": report.get_state_display()})
    return redirect("staff:absences")
