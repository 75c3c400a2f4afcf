# ruff: noqa: F811 (fixtures imported from test_tax_attestation arrive as test arguments)
"""API v1, attestations de frais de garde: list_tax_attestations gives the web page's amounts
(same service function), newest year first, the current year provisional; get_tax_attestation_pdf
sends the web download's PDF from 1 January and refuses the current year (409) and a year with
nothing to attest (404); each household of a shared child sees what it paid, and no family sees
another's."""

import datetime
import io

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from portal.models import Booking, Child, LedgerEntry
from portal.services.booking import book_day
from portal.services.wallet import apply_entry, lock_wallet
from tests.portal.api_client import API, assert_refused, token_headers
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import PARIS
from tests.portal.test_tax_attestation import book, buy, eligible, town  # noqa: F401

pytestmark = pytest.mark.django_db
# Days the evening care runs (Mondays, Tuesdays, Thursdays of autumn 2026; a Thursday of 2027).
DAYS = [datetime.date(2026, 9, 14), datetime.date(2026, 9, 15), datetime.date(2026, 9, 17)]
JANUARY_DAY = datetime.date(2027, 1, 7)
DECEMBER = datetime.datetime(2026, 12, 20, 9, tzinfo=PARIS)
IN_JANUARY = datetime.datetime(2027, 1, 5, 9, tzinfo=PARIS)
IN_FEBRUARY = datetime.datetime(2027, 2, 1, 9, tzinfo=PARIS)


def pdf_text(content):
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def by_year(body):
    """{year: {first name: (days, cents)}} of list_tax_attestations' answer."""
    return {a["year"]: {c["first_name"]: (c["days"], c["amount_cents"]) for c in a["children"]}
            for a in body}


@pytest.fixture
def paid(dupont, school, eligible, canteen, care, meal, town):
    """Léa (born June 2020) and Max (born 2023) at the evening care: Léa 3 days of 2026, Max 2
    days of 2026 and one of January 2027, tickets at 1,50 €; canteen meals too (never counted)."""
    family, user = dupont["family"], dupont["user"]
    lea = dupont["child"]
    Child.objects.filter(pk=lea.pk).update(birth_date=datetime.date(2020, 6, 2))
    lea.refresh_from_db()
    max_ = Child.objects.create(family=family, first_name="Max", last_name="Dupont",
                                birth_date=datetime.date(2023, 2, 1), school=school)
    buy(family, care, 10, 150)
    buy(family, meal, 5, 310)
    book(lea, eligible, DAYS, user)
    book(max_, eligible, DAYS[:2], user)
    book(lea, canteen, DAYS[:2], user)
    book_day(max_, eligible, JANUARY_DAY, by=user, now=datetime.datetime(2027, 1, 4, 8, tzinfo=PARIS))
    return {**dupont, "lea": lea, "max": max_}


def test_the_list_gives_each_year_newest_first_with_the_web_pages_amounts(client, paid):
    headers = token_headers(paid["user"])
    with time_machine.travel(IN_FEBRUARY, tick=False):
        body = client.get(f"{API}/tax-attestations", **headers).json()
        client.force_login(paid["user"])
        page = client.get(reverse("portal:tax_attestations"))
    assert [a["year"] for a in body] == [2027, 2026]
    assert by_year(body) == {2027: {"Max": (1, 150)}, 2026: {"Léa": (3, 450), "Max": (2, 300)}}
    # The web page's own rows, from the same service function.
    web = {row["year"]: {line.first_name: (line.days, line.cents) for line in row["attestation"].children}
           for row in page.context["years"]}
    assert by_year(body) == web
    current, past = body
    assert current["available"] is False and current["pdf_url"] is None
    assert current["note"] == ("Montants à ce jour, provisoires : l’attestation 2027 sera disponible "
                               "le 1er janvier 2028.")
    assert current["note"] in page.content.decode()
    assert past["available"] is True and past["note"] is None and past["total_cents"] == 750
    assert past["pdf_url"] == "http://testserver/api/v1/tax-attestations/2026/pdf"
    assert past["children"][0] == {"child_id": paid["lea"].pk, "first_name": "Léa", "last_name": "Dupont",
                                   "birth_date": "2020-06-02", "days": 3, "amount_cents": 450}


def test_the_pdf_is_the_web_downloads_from_january(client, paid):
    headers = token_headers(paid["user"])
    with time_machine.travel(IN_JANUARY, tick=False):
        response = client.get(f"{API}/tax-attestations/2026/pdf", **headers)
        client.force_login(paid["user"])
        web = client.get(reverse("portal:tax_attestation_pdf", args=[2026]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="attestation-frais-de-garde-2026.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response.content)
    for expected in ("Attestation de frais de garde — année 2026", "SIRET : 21990001600018",
                     "Léa Dupont, né(e) le 02/06/2020 : 3 jour(s) de garde, 4,50 €",
                     "Max Dupont, né(e) le 01/02/2023 : 2 jour(s) de garde, 3,00 €",
                     "Total payé pour la garde en 2026 : 7,50 €", "Établie le 05/01/2027"):
        assert expected in text, (expected, text)
    assert "Provisoire" not in text and "Cantine" not in text
    assert text == pdf_text(web.content)
    assert response["Content-Disposition"] == web["Content-Disposition"]


def test_the_current_year_is_refused_with_the_web_pages_words_and_other_years_are_not_found(client, paid):
    headers = token_headers(paid["user"])
    with time_machine.travel(DECEMBER, tick=False):
        listed = client.get(f"{API}/tax-attestations", **headers).json()
        assert [(a["year"], a["available"], a["pdf_url"]) for a in listed] == [(2026, False, None)]
        body = assert_refused(client.get(f"{API}/tax-attestations/2026/pdf", **headers), 409, "not_available")
        assert body["message"] == listed[0]["note"]
        assert "sera disponible le 1er janvier 2027" in body["message"]
        # Max's January day is booked already, but 2027 has not begun: nothing to attest yet.
        assert_refused(client.get(f"{API}/tax-attestations/2027/pdf", **headers), 404, "not_found")
        assert_refused(client.get(f"{API}/tax-attestations/2025/pdf", **headers), 404, "not_found")
        for year in ("1999", "2101", "99999999999999999999", "deux-mille"):
            body = assert_refused(client.get(f"{API}/tax-attestations/{year}/pdf", **headers), 422, "invalid")
            assert body["fields"][0]["field"] == "year"
    with time_machine.travel(IN_JANUARY, tick=False):
        # In January, 2026 is final and 2027 (Max's day is on the 7th) is provisional.
        assert client.get(f"{API}/tax-attestations/2026/pdf", **headers).status_code == 200
        assert_refused(client.get(f"{API}/tax-attestations/2027/pdf", **headers), 409, "not_available")


def test_a_year_whose_child_was_6_on_1_january_has_nothing_to_attest(client, paid, eligible):
    # Léa turns 6 in June 2026: 2027 counts for nobody but Max.
    with time_machine.travel(IN_FEBRUARY, tick=False):
        body = client.get(f"{API}/tax-attestations", **token_headers(paid["user"])).json()
    assert "Léa" not in by_year(body)[2027]


def test_another_family_never_sees_the_attestations_and_sees_its_own(client, paid, martin, eligible, care):
    tom = martin["child"]
    headers = token_headers(martin["user"])
    with time_machine.travel(IN_JANUARY, tick=False):
        assert client.get(f"{API}/tax-attestations", **headers).json() == []
        assert_refused(client.get(f"{API}/tax-attestations/2026/pdf", **headers), 404, "not_found")
    Child.objects.filter(pk=tom.pk).update(birth_date=datetime.date(2021, 4, 3))
    tom.refresh_from_db()
    buy(martin["family"], care, 2, 200)
    book(tom, eligible, DAYS[:1], martin["user"])
    with time_machine.travel(IN_JANUARY, tick=False):
        body = client.get(f"{API}/tax-attestations", **headers).json()
        text = pdf_text(client.get(f"{API}/tax-attestations/2026/pdf", **headers).content)
    assert by_year(body) == {2026: {"Tom": (1, 200)}}
    assert "Tom Martin" in text and "2,00 €" in text and "Léa" not in text and "Famille Dupont" not in text


def test_each_household_of_a_shared_child_sees_what_it_paid(client, dupont, martin, eligible, care, town):
    lea = dupont["child"]
    Child.objects.filter(pk=lea.pk).update(birth_date=datetime.date(2021, 6, 2),
                                           other_family=martin["family"])
    lea.refresh_from_db()
    buy(dupont["family"], care, 2, 150)
    book(lea, eligible, DAYS[:1], dupont["user"])
    buy(martin["family"], care, 2, 200)
    # The second household books two days and pays them from its own wallet.
    with transaction.atomic():
        wallet = lock_wallet(martin["family"].pk, care.pk)
        for day in DAYS[1:]:
            booking = Booking.objects.create(child=lea, family=martin["family"], service=eligible, date=day,
                                             created_by=martin["user"])
            apply_entry(wallet, -1, LedgerEntry.Kind.BOOKING, by=martin["user"], booking=booking)
    with time_machine.travel(IN_JANUARY, tick=False):
        first = client.get(f"{API}/tax-attestations", **token_headers(dupont["user"])).json()
        second = client.get(f"{API}/tax-attestations", **token_headers(martin["user"])).json()
        pdf = f"{API}/tax-attestations/2026/pdf"
        first_pdf = pdf_text(client.get(pdf, **token_headers(dupont["user"])).content)
        second_pdf = pdf_text(client.get(pdf, **token_headers(martin["user"])).content)
    assert by_year(first) == {2026: {"Léa": (1, 150)}}
    assert by_year(second) == {2026: {"Léa": (2, 400)}}
    assert "Famille Dupont" in first_pdf and "1,50 €" in first_pdf and "4,00 €" not in first_pdf
    assert "Famille Martin" in second_pdf and "4,00 €" in second_pdf and "Famille Dupont" not in second_pdf


def test_a_guardian_of_two_families_acts_for_the_first_like_on_the_web(client, paid, martin, eligible, care):
    """access.family_of_guardian: the API and the web page show the same household."""
    Child.objects.filter(pk=martin["child"].pk).update(birth_date=datetime.date(2021, 4, 3))
    buy(martin["family"], care, 2, 200)
    book(martin["child"], eligible, DAYS[:1], martin["user"])
    martin["family"].guardians.add(paid["user"])
    with time_machine.travel(IN_JANUARY, tick=False):
        body = client.get(f"{API}/tax-attestations", **token_headers(paid["user"])).json()
        client.force_login(paid["user"])
        page = client.get(reverse("portal:tax_attestations"))
    web = {row["year"]: {line.first_name: (line.days, line.cents) for line in row["attestation"].children}
           for row in page.context["years"]}
    assert by_year(body) == web and "Léa" in by_year(body)[2026] and "Tom" not in by_year(body)[2026]


def test_visitors_agents_and_the_session(paid, agent):
    client = Client(enforce_csrf_checks=True)
    with time_machine.travel(IN_JANUARY, tick=False):
        assert_refused(client.get(f"{API}/tax-attestations"), 401, "unauthenticated")
        assert_refused(client.get(f"{API}/tax-attestations/2026/pdf"), 401, "unauthenticated")
        client.force_login(agent)
        assert_refused(client.get(f"{API}/tax-attestations"), 403, "not_family")
        assert_refused(client.get(f"{API}/tax-attestations/2026/pdf"), 403, "not_family")
        # The web app's session reads them (a GET needs no CSRF token).
        client.force_login(paid["user"])
        assert [a["year"] for a in client.get(f"{API}/tax-attestations").json()] == [2027, 2026]
        assert client.get(f"{API}/tax-attestations/2026/pdf")["Content-Type"] == "application/pdf"


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    assert paths["/api/v1/tax-attestations"]["get"]["operationId"] == "list_tax_attestations"
    pdf = paths["/api/v1/tax-attestations/{year}/pdf"]["get"]
    assert pdf["operationId"] == "get_tax_attestation_pdf"
    assert list(pdf["responses"]["200"]["content"]) == ["application/pdf"]
    year = pdf["parameters"][0]["schema"]
    assert (year["minimum"], year["maximum"]) == (2000, 2100)
