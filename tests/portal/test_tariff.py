"""Agents set a family's tariff bracket (with its quotient familial, proof and date) in the
family form and in the file review; the town's default bracket prices the families without one."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import Site

from home.models import TownSettings
from portal.models import AuditLog, Family, Purchase, TariffBracket
from portal.services.payments import purchases
from tests.factories import ChildFactory, make_agent
from tests.portal.fixtures_payments import *  # noqa: F403
from tests.portal.fixtures_payments import UNIT

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def brackets(meal):
    low = TariffBracket.objects.create(name="Tranche A", quotient_min=0, quotient_max=599)
    middle = TariffBracket.objects.create(name="Tranche B", quotient_min=600, quotient_max=999)
    high = TariffBracket.objects.create(name="Tranche C", quotient_min=1000)
    for bracket, cents in ((low, 120), (middle, UNIT), (high, 450)):
        bracket.prices.create(ticket_type=meal, unit_cents=cents)
    return {"A": low, "B": middle, "C": high}


@pytest.fixture
def agent_client(client, db):
    client.force_login(make_agent("regie@example.org"))
    return client


def test_a_family_the_agent_creates_buys_once_the_agent_sets_its_bracket(
        agent_client, client, school, canteen, meal, brackets):
    agent_client.post(reverse("portal_families:add"), {
        "name": "Famille Nouvelle", "guardian1_email": "nouvelle@example.org", "address": "",
        "postcode": "", "city": "", "phone": ""})
    family = Family.objects.get(name="Famille Nouvelle")
    ChildFactory(family=family, school=school)
    assert purchases.buyable_ticket_types(family) == []

    edit = agent_client.get(reverse("portal_families:edit", args=[family.pk])).content.decode()
    assert 'name="tariff_bracket"' in edit and 'name="quotient_document"' in edit
    response = agent_client.post(reverse("portal_families:edit", args=[family.pk]), {
        "name": family.name, "address": "", "postcode": "", "city": "", "phone": "",
        "phone_secondary": "", "tariff_bracket": brackets["B"].pk, "quotient": "720",
        "quotient_date": "2026-09-01",
        "quotient_document": SimpleUploadedFile("caf.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 302
    family.refresh_from_db()
    assert (family.tariff_bracket, family.quotient, family.quotient_date) == (
        brackets["B"], 720, datetime.date(2026, 9, 1))
    assert family.quotient_document.name.endswith(f"quotient-famille-{family.pk}.pdf")
    entry = AuditLog.objects.filter(action="family.edit", family=family).get()
    assert entry.after["tariff_bracket"] == "Tranche B" and entry.after["quotient"] == 720

    guardian = get_user_model().objects.get(email="nouvelle@example.org")
    client.force_login(guardian)
    page = client.get(reverse("portal:payment_buy")).content.decode()
    assert "3,10 €" in page and "contactez la mairie" not in page
    response = client.post(reverse("portal:payment_buy"), {"ticket_type": meal.pk, "quantity": "4"})
    assert response.status_code == 302
    assert Purchase.objects.get(family=family).amount_cents == 4 * UNIT


def test_the_file_review_sets_the_quotient_its_proof_and_date_and_the_bracket_follows(
        agent_client, client, dupont, meal, brackets):
    family = dupont["family"]
    url = reverse("portal_families:review", args=[family.pk])
    page = agent_client.get(url).content.decode()
    assert "Tranche non fixée : la famille ne peut pas acheter de tickets." in page
    response = agent_client.post(url, {
        "action": "tariff", "tariff_bracket": "", "quotient": "1250", "quotient_date": "2026-08-28",
        "quotient_document": SimpleUploadedFile("attestation.pdf", PDF)}, follow=True)
    assert "Tarif enregistré : Tranche C." in response.content.decode()
    family.refresh_from_db()
    assert (family.tariff_bracket, family.quotient) == (brackets["C"], 1250)
    assert purchases.unit_price(family, meal) == 450
    log = AuditLog.objects.get(action="family.edit", family=family)
    assert log.before["tariff_bracket"] is None and log.after["tariff_bracket"] == "Tranche C"
    assert log.after["quotient_date"] == datetime.date(2026, 8, 28).isoformat() or \
        str(log.after["quotient_date"]) == "2026-08-28"

    document = agent_client.get(reverse("portal_families:quotient_document", args=[family.pk]))
    assert document.status_code == 200 and b"".join(document.streaming_content) == PDF
    client.force_login(dupont["user"])  # a family never reaches the back office's copy
    assert client.get(reverse("portal_families:quotient_document", args=[family.pk])).status_code in (
        302, 403)


def test_a_wrong_proof_file_or_an_unmatched_quotient_changes_nothing(agent_client, dupont, meal, brackets):
    TariffBracket.objects.filter(name="Tranche C").delete()
    family = dupont["family"]
    url = reverse("portal_families:review", args=[family.pk])
    page = agent_client.post(url, {"action": "tariff", "tariff_bracket": "", "quotient": "720",
                                   "quotient_document": SimpleUploadedFile("caf.pdf", b"GIF89a")},
                             follow=True).content.decode()
    assert "Seuls les fichiers PDF, JPEG ou PNG" in page
    page = agent_client.post(url, {"action": "tariff", "tariff_bracket": "", "quotient": "5000"},
                             follow=True).content.decode()
    assert "Aucune tranche tarifaire ne correspond au quotient 5000" in page
    family.refresh_from_db()
    assert (family.tariff_bracket, family.quotient, family.quotient_document.name) == (None, None, "")
    assert not AuditLog.objects.filter(action="family.edit").exists()


def test_a_family_cannot_set_its_own_bracket(client, dupont, brackets):
    client.force_login(dupont["user"])
    client.post(reverse("portal:family"), {"address": "1 rue", "postcode": "99999", "city": "X",
                                           "phone": "", "phone_secondary": "",
                                           "tariff_bracket": brackets["A"].pk, "quotient": "10"})
    dupont["family"].refresh_from_db()
    assert (dupont["family"].tariff_bracket, dupont["family"].quotient) == (None, None)


def test_the_towns_default_bracket_prices_families_whose_bracket_is_not_set(
        client, dupont, canteen, meal, brackets):
    family = dupont["family"]
    assert purchases.unit_price(family, meal) is None
    TownSettings.objects.update_or_create(site=Site.objects.get(is_default_site=True),
                                          defaults={"default_tariff_bracket": brackets["C"]})
    assert purchases.unit_price(family, meal) == 450
    client.force_login(dupont["user"])
    assert "4,50 €" in client.get(reverse("portal:payment_buy")).content.decode()
    assert "4,50 €" in client.get(reverse("portal:wallet")).content.decode()
    family.tariff_bracket = brackets["A"]
    family.save()
    assert purchases.unit_price(family, meal) == 120
