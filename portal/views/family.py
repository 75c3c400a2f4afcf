import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.forms import AuthorisedPersonFormSet, ChildForm, FamilyForm
from portal.models import Child, Family
from portal.services import attendance, dossier, family_home
from portal.services.access import access_child, access_child_health, access_family, family_of_guardian

from .downloads import as_download
from .forms_input import posted, posted_files


@login_required
def dashboard(request):
    """The parent's home: what needs doing, balances, the coming week of each child."""
    family = family_of_guardian(request.user, Family.objects.prefetch_related("guardians"))
    if family is None and attendance.is_staff_member(request.user):
        # Animateurs have no family: their space is the day's lists.
        return redirect("staff:home")
    context = {"family": family}
    if family is not None:
        lines = dossier.dossier_lines(family)
        children = household_children(family)
        weeks = family_home.family_weeks(children, timezone.localdate(), timezone.now())
        context["missing"], context["notice"] = dossier.file_check(family, lines)
        context["bookings_open"] = not context["missing"]
        context["wallets"] = family.wallets.select_related("ticket_type").order_by("ticket_type__name")
        context["todo"] = family_home.family_todo(lines, weeks, timezone.now(),
                                                  family_home.renewal_lines(family))
        context["glance"] = family_home.week_glance(weeks)
        context["glance_week"] = weeks.days[0] if weeks.days else None
    return render(request, "portal/dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def family_edit(request):
    family = access_family(request.user)
    form = FamilyForm(posted(request), instance=family)
    if request.method == "POST" and form.is_valid():
        try:
            dossier.update_family(family, form.cleaned_data, by=request.user,
                                  fields=list(form.cleaned_data))
        except dossier.DossierError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Les informations du foyer sont enregistrées."))
            return redirect("portal:family")
    return render(request, "portal/family/family.html", {
        "form": form, "family": family,
        "children": household_children(family, "authorised_people"),
        "guardians": family.guardians.all(),
    })


def household_children(family, *prefetch):
    """The children a household books for, its own and the ones it shares as second
    household (Child.household is this family), by first name, school selected: one query."""
    children = (Child.objects.filter(Child.of_household(family.pk)).select_related("school")
                .prefetch_related(*prefetch).order_by("first_name", "pk"))
    return [c.seen_by(family) for c in children]


def _child_form(request, family, child):
    form = ChildForm(posted(request), posted_files(request), instance=child)
    formset = AuthorisedPersonFormSet(posted(request), instance=child, prefix="personnes")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        child = form.save(commit=False)
        child.family = family
        try:
            with transaction.atomic():
                dossier.save_child(child, by=request.user,
                                   pai_upload=form.cleaned_data.get("pai_upload"))
                formset.instance = child
                formset.save()
        except dossier.DossierError as error:
            messages.error(request, str(error))
        except ValidationError as error:
            form.add_error("pai_upload", error)
        else:
            messages.success(request, _("La fiche de %(name)s est enregistrée.")
                             % {"name": child.first_name})
            return redirect("portal:family")
    return render(request, "portal/family/child_form.html",
                  {"form": form, "formset": formset, "child": child})


@login_required
@require_http_methods(["GET", "POST"])
def child_add(request):
    family = access_family(request.user)
    return _child_form(request, family, Child(family=family))


@login_required
@require_http_methods(["GET", "POST"])
def child_edit(request, child_id):
    child = access_child(request.user, child_id)
    if child.household_id != child.family_id:
        # A shared child's sheet is kept by its first family (and checked once by the town):
        # the second household reads it on its family page.
        raise Http404
    return _child_form(request, child.family, child)


@login_required
def child_pai(request, child_id):
    child = access_child_health(request.user, child_id)
    if not child.pai_document:
        raise Http404("No PAI document.")
    return private_file_response(child.pai_document, f"PAI-{child.first_name}")


def private_file_response(field_file, download_name):
    """Stream a private file as an attachment, never rendered inline by the browser."""
    name = field_file.name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    extension = mimetypes.guess_extension(content_type) or ""
    response = FileResponse(field_file.storage.open(name, "rb"), content_type=content_type)
    return as_download(response, f"{download_name}{extension}")
