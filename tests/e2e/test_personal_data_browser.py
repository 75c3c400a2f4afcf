"""Personal data in a real browser: a parent reads and downloads the family's data from « Ma
famille »; an agent anonymises a family on request after its confirmation page."""

import json
import re

import pytest
from playwright.sync_api import expect

from portal.models import Family
from tests.e2e.conftest import log_in_to_admin
from tests.e2e.test_phone_browser import SIZES, log_in, phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_parent_reads_the_summary_and_downloads_the_json_file(browser, live_server, demo,
                                                                assert_accessible):
    context, page = phone(browser, live_server, SIZES[1], accept_downloads=True)
    log_in(page)
    page.goto("/famille/foyer/")
    page.get_by_role("link", name=re.compile("Voir et télécharger toutes les données")).tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mes données personnelles")
    for heading in ("Responsables", "Enfants", "Dossier et consentements", "Réservations (par mois)",
                    "Tickets et paiements", "E-mails envoyés au foyer", "Applications connectées"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[1]["width"]

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger toutes mes données (fichier JSON)").tap()
    assert download.value.suggested_filename.startswith("preau-mes-donnees-")
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    family = Family.objects.get(guardians__email="famille.demo@example.org")
    assert data["foyer"]["nom"] == family.name
    assert len(data["reservations"]) == family.bookings.count() > 0
    assert data["liste_d_attente"]  # Léo waits for the Wednesday workshop
    context.close()


def test_an_agent_anonymises_a_family_after_reading_what_goes_and_what_stays(desktop_page, demo):
    family = Family.objects.get(guardians__email="famille2.demo@example.org")
    log_in_to_admin(desktop_page, "agent.demo@example.org")
    desktop_page.goto(f"/admin/familles/{family.pk}/dossier/")
    desktop_page.get_by_role("link", name="Anonymiser le foyer (RGPD)…").click()
    expect(desktop_page.get_by_role("heading", name="Ce qui est effacé")).to_be_visible()
    expect(desktop_page.get_by_role("heading", name=re.compile("Ce qui est gardé"))).to_be_visible()
    confirm = desktop_page.get_by_label("J’ai lu ces conséquences et je confirme l’anonymisation.")
    if confirm.count():
        confirm.check()
    desktop_page.get_by_role("button", name="Anonymiser définitivement").click()
    expect(desktop_page.get_by_text("Le foyer est anonymisé")).to_be_visible()
    expect(desktop_page.get_by_text(re.compile("Foyer anonymisé le"))).to_be_visible()
    family.refresh_from_db()
    assert family.name == f"Foyer anonymisé n° {family.pk}"
    assert not Family.objects.filter(guardians__email="famille2.demo@example.org").exists()
