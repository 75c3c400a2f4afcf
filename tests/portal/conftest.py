import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.models import PreauDocument
from portal.models import AbsenceReport, AuthorisedPerson, FileRequirement, Service, TicketType
from portal.services import dossier
from portal.services.payments.purchases import record_town_hall_payment
from tests.factories import (
    FileRequirementFactory,
    SchoolYearFactory,
    make_agent,
    make_editor,
    make_family,
    make_staff,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf_upload(name="assurance.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def school_year(db):
    return SchoolYearFactory()


@pytest.fixture
def regulation(db):
    from documents.demo import add_document

    return add_document("Règlement 2026", "reglement.pdf", PDF_BYTES,
                        kind=PreauDocument.Kind.REGULATION, version="2026-1")


@pytest.fixture
def requirements(school_year, regulation):
    insurance = FileRequirementFactory(school_year=school_year, name="Attestation d’assurance",
                                       sort_order=1)
    rules = FileRequirementFactory(school_year=school_year, name="Règlement",
                                   kind=FileRequirement.Kind.REGULATION, sort_order=2)
    return {"insurance": insurance, "regulation": rules}


@pytest.fixture
def family_a(db):
    return make_family("parent.a@example.org", "Famille Alpha")


@pytest.fixture
def family_b(db):
    return make_family("parent.b@example.org", "Famille Bravo")


@pytest.fixture
def parent_a(family_a):
    return family_a.guardians.get()


@pytest.fixture
def parent_b(family_b):
    return family_b.guardians.get()


@pytest.fixture
def agent(db):
    return make_agent()


@pytest.fixture
def staff(db):
    return make_staff()


@pytest.fixture
def editor(db):
    return make_editor()


@pytest.fixture
def family_a_objects(family_a, parent_a, requirements):
    child = family_a.children.get()
    # A name no page could contain by chance (Faker's random names sometimes could).
    child.first_name = "Zéphyrine"
    dossier.save_child(child, by=parent_a, pai_upload=pdf_upload("pai.pdf"))
    AuthorisedPerson.objects.create(child=child, name="Mamie Alpha", phone="0600000000")
    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    acceptance = dossier.accept_regulation(family_a, by=parent_a)
    ticket_type = TicketType.objects.create(name="Repas")
    purchase = record_town_hall_payment(family_a, ticket_type, 2, "cash", by=None, unit_cents=300)
    # A sick-day report with its certificate (made directly: the rules are tested elsewhere).
    report = AbsenceReport(child=child, service=Service.objects.create(
        name="Cantine", start=datetime.date(2026, 9, 1), end=datetime.date(2027, 7, 3),
        ticket_type=ticket_type), date=datetime.date(2026, 9, 14), reason="Fièvre", created_by=parent_a)
    report.certificate.save("certificat.pdf", pdf_upload("certificat.pdf"), save=True)
    return {"child": child, "item": item, "acceptance": acceptance, "purchase": purchase, "report": report}
