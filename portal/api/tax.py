"""list_tax_attestations, get_tax_attestation_pdf: the attestations de frais de garde (crédit
d'impôt) of the caller's household, computed by portal/services/tax_attestation.py like the web
page's, the PDF sent by the web download's own code (portal/views/tax.py)."""

import datetime
from typing import Annotated

from django.urls import reverse
from ninja import Field, Path, Router, Schema

from portal.services import tax_attestation
from portal.views.tax import attestation_pdf_response

from .auth import AUTH
from .common import ERRORS, FIRST_YEAR, LAST_YEAR, ApiError, family_of, not_found, responses

router = Router(tags=["attestations de frais de garde"], auth=AUTH)

Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description="L’année civile (AAAA)",
                           examples=[2025])]


class TaxChildOut(Schema):
    child_id: int
    first_name: str
    last_name: str
    birth_date: datetime.date
    days: int = Field(description="Jours de garde payés dans l’année")
    amount_cents: int = Field(description="Montant payé pour l’enfant, en centimes (la somme à déclarer)")


class TaxAttestationOut(Schema):
    year: int
    available: bool = Field(description="true : l’année est finie, l’attestation est définitive et son PDF "
                                        "téléchargeable (pdf_url) ; false : l’année en cours, montants "
                                        "provisoires (jours déjà réservés compris)")
    note: str | None = Field(description="Pour l’année en cours : le texte à montrer (montants provisoires, "
                                         "date à laquelle l’attestation sera disponible)")
    children: list[TaxChildOut] = Field(description="Les enfants de moins de 6 ans au 1er janvier de "
                                                    "l’année, avec ce que le foyer a payé pour eux")
    total_cents: int
    pdf_url: str | None = Field(description="L’adresse du PDF (get_tax_attestation_pdf), avec le même "
                                            "jeton ; vide pour l’année en cours")


@router.get("/tax-attestations", operation_id="list_tax_attestations",
            response=responses({200: list[TaxAttestationOut]}),
            summary="Les attestations de frais de garde (crédit d’impôt), par année")
def list_tax_attestations(request):
    """Chaque année où le foyer a payé la garde (garderie, accueil du mercredi ; jamais la cantine)
    d’un enfant de moins de 6 ans au 1er janvier, la plus récente d’abord, l’année en cours comprise
    (provisoire). Les montants sont ceux de la page « Attestations de frais de garde » du site. Pour
    un enfant de deux foyers, chaque foyer voit ce qu’il a payé."""
    family = family_of(request)
    day = tax_attestation.today_in_paris()
    out = []
    for attestation in tax_attestation.family_attestations(family, day):
        year = attestation.year
        available = tax_attestation.is_available(year, day)
        out.append({
            "year": year, "available": available,
            "note": None if available else tax_attestation.provisional_note(year),
            "children": [{"child_id": line.child_id, "first_name": line.first_name,
                          "last_name": line.last_name, "birth_date": line.birth_date, "days": line.days,
                          "amount_cents": line.cents} for line in attestation.children],
            "total_cents": attestation.total_cents,
            "pdf_url": request.build_absolute_uri(reverse("api-v1:tax_attestation_pdf", args=[year]))
            if available else None,
        })
    return out


PDF = {200: {
    "description": "L’attestation en PDF, à enregistrer",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {
        "Content-Disposition": {"description": "attachment ; le nom du fichier",
                                "schema": {"type": "string"}},
        "Cache-Control": {"description": "private, no-store", "schema": {"type": "string"}},
    },
}}


@router.get("/tax-attestations/{year}/pdf", operation_id="get_tax_attestation_pdf",
            url_name="tax_attestation_pdf", response=ERRORS, openapi_extra={"responses": PDF},
            summary="L’attestation de frais de garde d’une année, en PDF")
def get_tax_attestation_pdf(request, year: Year):
    """Le PDF du site, disponible à partir du 1er janvier de l’année suivante. Refus : `not_found`
    (404, rien à attester cette année-là, ou une année à venir), `not_available` (409, l’année en
    cours : les montants sont provisoires)."""
    family = family_of(request)
    day = tax_attestation.today_in_paris()
    if year > day.year:
        raise not_found()
    attestation = tax_attestation.family_attestation(family, year)
    if attestation is None:
        raise not_found()
    if not tax_attestation.is_available(year, day):
        raise ApiError(409, "not_available", tax_attestation.provisional_note(year))
    return attestation_pdf_response(attestation, today=day)
