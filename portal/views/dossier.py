from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.forms import RegulationForm, UploadForm
from portal.models import FileRequirement, SchoolYear
from portal.services import dossier
from portal.services.access import access_acceptance, access_family, access_file_item

from .downloads import as_download
from .family import private_file_response
from .forms_input import posted, posted_files


@login_required
def dossier_view(request):
    family = access_family(request.user)
    missing, notice = dossier.file_check(family)
    return render(request, "portal/dossier/dossier.html", {
        "family": family, "lines": dossier.dossier_lines(family),
        "school_year": SchoolYear.current(),
        "missing": missing, "notice": notice,
        # The next school year's file, once the rollover asked families to renew it.
        "renewals": [(year, renewed, dossier.dossier_lines(family, year))
                     for year, renewed in dossier.renewed_years(family)],
        "acceptances": family.regulation_acceptances.select_related("accepted_by"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def file_upload(request, requirement_id):
    family = access_family(request.user)
    # The current year's pieces, and the next year's once the rollover asked to renew them.
    requirement = get_object_or_404(
        FileRequirement.objects.filter(Q(school_year_id=SchoolYear.current_id())
                                       | Q(school_year__in=dossier.renewal_years())),
        pk=requirement_id, kind=FileRequirement.Kind.UPLOAD)
    form = UploadForm(posted(request), posted_files(request))
    if request.method == "POST" and form.is_valid():
        try:
            dossier.submit_file(family, requirement, form.cleaned_data["file"], by=request.user)
        except ValidationError as error:
            form.add_error("file", error)
        except dossier.DossierError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("« %(name)s » est envoyé : la mairie va le vérifier.")
                             % {"name": requirement.name})
            return redirect("portal:dossier")
    item = family.file_items.filter(requirement=requirement).first()
    return render(request, "portal/dossier/upload.html",
                  {"form": form, "requirement": requirement, "item": item})


@login_required
def file_download(request, item_id):
    item = access_file_item(request.user, item_id)
    return private_file_response(item.file, item.requirement.name)


@login_required
@require_http_methods(["GET", "POST"])
def regulation(request):
    family = access_family(request.user)
    document = dossier.current_regulation()
    acceptance = dossier.regulation_acceptance(family, document) if document else None
    form = RegulationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            dossier.accept_regulation(family, by=request.user)
        except dossier.DossierError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Merci : votre acceptation du règlement est enregistrée. "
                                        "Vous pouvez télécharger le récépissé."))
            return redirect("portal:dossier")
    return render(request, "portal/dossier/regulation.html",
                  {"form": form, "document": document, "acceptance": acceptance})


@login_required
def receipt(request, acceptance_id):
    acceptance = access_acceptance(request.user, acceptance_id)
    response = HttpResponse(dossier.receipt_pdf(acceptance), content_type="application/pdf")
    return as_download(response, f"recepisse-reglement-{acceptance.pk}.pdf")
