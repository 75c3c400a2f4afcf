"""A family finds its attestation de frais de garde from its wallet and downloads the PDF."""

import datetime
import io

from pypdf import PdfReader

from home.demo import DEMO_PASSWORD
from portal.demo_payments import pay_online
from portal.models import Child, School, Service, TicketType
from portal.services.booking import book_day
from portal.services.deadlines import PARIS


def test_a_family_downloads_last_years_attestation_from_its_wallet(page, assert_accessible):
    from playwright.sync_api import expect

    # Last school year's evening care (made here, so the test does not depend on today's date).
    nora = Child.objects.get(first_name="Nora", last_name="Lefèvre")
    care = TicketType.objects.get(name="Garderie")
    service = Service.objects.create(name="Garderie du soir 2025", ticket_type=care, weekdays="0134",
                                     start=datetime.date(2025, 9, 1), end=datetime.date(2025, 12, 19),
                                     childcare_tax_credit=True)
    service.schools.set(School.objects.all())
    assert pay_online(nora.family, care, 10)
    guardian = nora.family.guardians.get()
    for day in (datetime.date(2025, 11, 17), datetime.date(2025, 11, 18)):
        book_day(nora, service, day, by=guardian, now=datetime.datetime(2025, 11, 10, 8, tzinfo=PARIS))

    page.goto("/famille/connexion/")
    page.fill("input[name=username]", "famille.jour.demo@example.org")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    page.goto("/famille/porte-monnaie/")
    page.get_by_role("link", name="Attestations de frais de garde").click()
    section = page.locator("section", has=page.get_by_role("heading", name="Année 2025"))
    expect(section).to_contain_text("Nora Lefèvre")
    expect(section).to_contain_text("1,60 €")
    assert_accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger l’attestation 2025 (PDF)").click()
    with open(info.value.path(), "rb") as pdf:
        text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read())).pages).split())
    assert "Nora Lefèvre, né(e) le 02/04/2022 : 2 jour(s) de garde, 1,60 €" in text
    assert "Sofia Lefèvre" in text
