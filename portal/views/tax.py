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
    years = [{"year": a.year, "attestation": a, "available": tax_attestation.is_available(a.year, today)}
             for a in tax_attestation.family_attestations(family, today)]
    return render(request, "portal/payment/tax_attestations.html",
                  {"family": family, "years": years, "next_year": today.year + 1})


@login_required
def attestation_pdf(request, year):
    family = access_family(request.user)
    today = tax_attestation.today_in_paris()
    if year < tax_attestation.FIRST_YEAR or not tax_attestation.is_available(year, today):
        raise Http404
    attestation = tax_attestation.family_attestation(family, year)
    if attestation is None:
        raise Http404
    response = HttpResponse(tax_attestation.attestation_pdf(attestation, today=today),
                            content_type="application/pdf")
    return as_download(response, f"attestation-frais-de-garde-{year}.pdf")
