"""A family reports a sick child (same morning, or past the cancellation deadline)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.forms import AbsenceReportForm
from portal.models import AbsenceReport, Child, Service
from portal.services import attendance
from portal.services.access import access_absence_report, access_family

from .family import private_file_response
from .forms_input import posted, posted_files


@login_required
@require_http_methods(["GET", "POST"])
def absences(request):
    family = access_family(request.user)
    children = (Child.objects.filter(Child.of_household(family.pk)).select_related("school")
                .order_by("first_name"))
    services = Service.objects.filter(schools__children__in=children).distinct().order_by("order", "name")
    form = AbsenceReportForm(posted(request), posted_files(request), children=children, services=services,
                             initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            attendance.report_absence(d["child"].seen_by(family), d["service"], d["date"], d["reason"],
                                      by=request.user,
                                      certificate=d["certificate"])
        except attendance.RollCallError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Absence signalée : la mairie vous répondra ici."))
            return redirect("portal:absences")
    reports = (AbsenceReport.objects.filter(family=family)
               .select_related("child", "service").order_by("-date", "-created_at")[:50])
    return render(request, "portal/absences.html", {"form": form, "reports": reports})


@login_required
def absence_certificate(request, report_id):
    report = access_absence_report(request.user, report_id)
    if not report.certificate:
        raise Http404("No certificate.")
    return private_file_response(report.certificate, f"certificat-{report.date:%Y-%m-%d}")
