"""The family's attestations de frais de garde (crédit d'impôt), from its wallet pages."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from portal.services import tax_attestation
from portal.services.access import access_family

from .downloads import as_download


@login_required
def attestations(request):
    family = access_family(request.user)
    today = tax_attestation.today_in_paris()
    years = []
    for a in tax_attestation.family_attestations(family, today):
        available = tax_attestation.is_available(a.year, today)
        years.append({"year": a.year, "attestation": a, "available": available,
                      "note": None if available else tax_attestation.provisional_note(a.year)})
    return render(request, "portal/payment/tax_attestations.html", {"family": family, "years": years})


@login_required
def attestation_pdf(request, year):
    family = access_family(request.user)
    today = tax_attestation.today_in_paris()
    if year < tax_attestation.FIRST_YEAR or not tax_attestation.is_available(year, today):
        raise Http404
    attestation = tax_attestation.family_attestation(family, year)
    if attestation is None:
        raise Http404
    return attestation_pdf_response(attestation, today=today)


def attestation_pdf_response(attestation, *, today):
    """The attestation's PDF as a download: the family's page and the API's alike."""
    response = HttpResponse(tax_attestation.attestation_pdf(attestation, today=today),
                            content_type="application/pdf")
    return as_download(response, f"attestation-frais-de-garde-{attestation.year}.pdf")
