"""Attestations de frais de garde: what is counted (tickets used for eligible care by children
under 6 on 1 January, at the price paid), what is not (canteen, unused or given-back tickets,
refunds, town-hall credits), the PDF's text, who may download it, and the agents' bulk export."""

import datetime
import io
import zipfile

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader
from wagtail.models import Site

from home.models import TownSettings
from portal.models import Child, Service
from portal.services import attendance, tax_attestation
from portal.services.booking import book_day, cancel_booking
from portal.services.payments.purchases import record_town_hall_payment
from portal.services.payments.refunds import refund_purchase
from portal.services.wallet import debit_tickets
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import NOW, PARIS, give_tickets, make_family

pytestmark = pytest.mark.django_db

# Mondays, Tuesdays and Thursdays of autumn 2026 on which the services run (no holiday).
DAYS = [datetime.date(2026, 9, 14), datetime.date(2026, 9, 15), datetime.date(2026, 9, 17),
        datetime.date(2026, 9, 21), datetime.date(2026, 9, 22), datetime.date(2026, 9, 24)]
IN_JANUARY = datetime.datetime(2027, 1, 5, 9, 0, tzinfo=PARIS)


@pytest.fixture
def eligible(evening):
    Service.objects.filter(pk=evening.pk).update(childcare_tax_credit=True)
    evening.refresh_from_db()
    return evening


@pytest.fixture
def young(dupont):
    """Léa Dupont, born in June 2020: under 6 on 1 January 2026, 6 in June 2026."""
    child = dupont["child"]
    Child.objects.filter(pk=child.pk).update(birth_date=datetime.date(2020, 6, 2))
    child.refresh_from_db()
    return child


def buy(family, ticket_type, n, unit_cents, agent=None):
    return record_town_hall_payment(family, ticket_type, n, "cash", by=agent, unit_cents=unit_cents)


def book(child, service, days, user, now=NOW):
    return [book_day(child, service, day, by=user, now=now) for day in days]


def amounts(family, year=2026):
    attestation = tax_attestation.family_attestation(family, year)
    if attestation is None:
        return None
    return {line.first_name: (line.days, line.cents) for line in attestation.children}


def test_used_care_tickets_count_at_their_price_and_canteen_and_unused_tickets_do_not(
        dupont, young, eligible, canteen, care, meal, agent):
    buy(dupont["family"], care, 10, 150, agent)
    buy(dupont["family"], meal, 10, 310, agent)
    book(young, eligible, DAYS[:3], dupont["user"])
    book(young, canteen, DAYS[:4], dupont["user"])
    # 7 care tickets bought and not used, 4 meals: not on the attestation.
    assert amounts(dupont["family"]) == {"Léa": (3, 450)}


def test_a_child_under_6_on_1_january_counts_for_the_whole_year_and_not_the_next(
        dupont, young, eligible, care, agent, school):
    older = Child.objects.create(family=dupont["family"], first_name="Paul", last_name="Dupont",
                                 birth_date=datetime.date(2019, 12, 31), school=school)
    buy(dupont["family"], care, 10, 150, agent)
    # Léa is 6 since June: her autumn days still count; Paul was 6 before 1 January 2026.
    book(young, eligible, DAYS[:2], dupont["user"])
    book(older, eligible, DAYS[:2], dupont["user"])
    january = datetime.date(2027, 1, 7)
    book_day(young, eligible, january, by=dupont["user"], now=datetime.datetime(2027, 1, 4, 8, tzinfo=PARIS))
    assert amounts(dupont["family"]) == {"Léa": (2, 300)}
    # In 2027 Léa was 6 on 1 January: nothing to attest.
    assert amounts(dupont["family"], 2027) is None
    assert tax_attestation.child_is_eligible(datetime.date(2020, 1, 1), 2026)
    assert not tax_attestation.child_is_eligible(datetime.date(2019, 12, 31), 2026)


def test_tickets_are_used_oldest_first_at_the_price_each_purchase_paid(dupont, young, eligible, care, agent):
    buy(dupont["family"], care, 2, 150, agent)
    buy(dupont["family"], care, 2, 220, agent)
    book(young, eligible, DAYS[:3], dupont["user"])
    assert amounts(dupont["family"]) == {"Léa": (3, 150 + 150 + 220)}


def test_a_cancelled_booking_whose_ticket_came_back_is_not_counted_and_one_kept_is(
        dupont, young, eligible, care, agent):
    buy(dupont["family"], care, 1, 150, agent)
    buy(dupont["family"], care, 2, 220, agent)
    first, second, third = book(young, eligible, DAYS[:3], dupont["user"])
    # The family cancels in time: its 1,50 € ticket is back, and used again next.
    cancel_booking(first, by=dupont["user"], now=NOW)
    assert amounts(dupont["family"]) == {"Léa": (2, 440)}
    book_day(young, eligible, DAYS[3], by=dupont["user"], now=NOW)
    assert amounts(dupont["family"]) == {"Léa": (3, 590)}
    # Cancelled by an agent without giving the ticket back: it was paid, it counts.
    cancel_booking(second, by=agent, refund=False, now=NOW)
    assert amounts(dupont["family"]) == {"Léa": (3, 590)}


def test_refunded_tickets_are_not_counted_and_a_refund_lowers_the_price_of_the_rest(
        dupont, young, eligible, care, agent):
    purchase = buy(dupont["family"], care, 10, 150, agent)
    book(young, eligible, DAYS[:2], dupont["user"])
    refund_purchase(purchase, 8, "Déménagement", by=agent)
    assert amounts(dupont["family"]) == {"Léa": (2, 300)}

    # 4 tickets for 6,00 €, one ticket refunded 3,00 €: the 3 kept cost 3,00 € together.
    martin_family = make_family("Bonnet", "bonnet@example.org", young.school,
                                children=("Zoé",))[1]
    zoe = martin_family.children.get()
    Child.objects.filter(pk=zoe.pk).update(birth_date=datetime.date(2022, 3, 1))
    other = buy(martin_family, care, 4, 150, agent)
    refund_purchase(other, 1, "Geste commercial", by=agent, amount_cents=300)
    book(zoe, eligible, DAYS[:3], martin_family.guardians.get())
    assert amounts(martin_family) == {"Zoé": (3, 300)}


def test_refunding_a_purchase_already_used_moves_its_uses_to_the_tickets_kept(
        dupont, young, eligible, care, agent):
    first = buy(dupont["family"], care, 2, 150, agent)
    buy(dupont["family"], care, 2, 200, agent)
    book(young, eligible, DAYS[:2], dupont["user"])
    # The 1,50 € purchase is refunded whole (its tickets were used): the family paid 2,00 € each.
    refund_purchase(first, 2, "Erreur de tarif", by=agent)
    assert amounts(dupont["family"]) == {"Léa": (2, 400)}


def test_tickets_given_by_the_town_hall_cost_nothing(dupont, young, eligible, care, agent):
    wallet = give_tickets(dupont["family"], care, 1, agent)
    buy(dupont["family"], care, 2, 150, agent)
    book(young, eligible, DAYS[:2], dupont["user"])
    # Two tickets credited by mistake and taken back: an agent's withdrawal takes the newest.
    give_tickets(dupont["family"], care, 2, agent)
    debit_tickets(wallet, 2, "Crédit en double", by=agent)
    book(young, eligible, DAYS[2:3], dupont["user"])
    assert amounts(dupont["family"]) == {"Léa": (3, 300)}


def test_only_gifts_make_no_attestation(dupont, young, eligible, care, agent, client):
    give_tickets(dupont["family"], care, 3, agent)
    book(young, eligible, DAYS[:3], dupont["user"])
    assert amounts(dupont["family"]) is None


def test_penalty_tickets_count_and_an_excused_absence_does_not(dupont, young, eligible, care, agent):
    buy(dupont["family"], care, 3, 150, agent)
    buy(dupont["family"], care, 2, 200, agent)
    monday, tuesday = DAYS[0], DAYS[1]
    book_day(young, eligible, monday, by=dupont["user"], now=NOW)
    morning = datetime.datetime(2026, 9, 15, 19, 0, tzinfo=PARIS)
    # Monday: booked, absent, excused (ticket back). Tuesday: present without a booking.
    attendance.excuse_absence(young, eligible, monday, by=agent, reason="Malade", now=morning)
    attendance.mark_child(young.school, eligible, tuesday, young, present=True, by=agent, now=morning)
    attendance.close_roll_call(young.school, eligible, tuesday, by=agent, now=morning)
    assert amounts(dupont["family"]) == {"Léa": (1, 150)}


def test_a_service_without_the_flag_is_not_counted(dupont, young, evening, care, agent):
    buy(dupont["family"], care, 3, 150, agent)
    book(young, evening, DAYS[:3], dupont["user"])
    assert amounts(dupont["family"]) is None


def test_a_child_of_two_households_is_on_each_ones_attestation_for_what_it_paid(
        dupont, young, martin, eligible, care, agent):
    from django.db import transaction

    from portal.models import Booking, LedgerEntry
    from portal.services.wallet import apply_entry, lock_wallet

    Child.objects.filter(pk=young.pk).update(other_family=martin["family"])
    buy(dupont["family"], care, 2, 150, agent)
    book(young, eligible, DAYS[:1], dupont["user"])
    buy(martin["family"], care, 2, 200, agent)
    # The second household books a day and pays it from its own wallet.
    with transaction.atomic():
        wallet = lock_wallet(martin["family"].pk, care.pk)
        booking = Booking.objects.create(child=young, family=martin["family"], service=eligible,
                                         date=DAYS[1], created_by=martin["user"])
        apply_entry(wallet, -1, LedgerEntry.Kind.BOOKING, by=martin["user"], booking=booking)
    assert amounts(dupont["family"]) == {"Léa": (1, 150)}
    assert amounts(martin["family"]) == {"Léa": (1, 200)}
    assert {(a.family.pk, a.total_cents) for a in tax_attestation.all_attestations(2026)} == {
        (dupont["family"].pk, 150), (martin["family"].pk, 200)}


@pytest.fixture
def town(db):
    settings = TownSettings.for_site(Site.objects.get(is_default_site=True))
    settings.town_name = "Ville de Saint-Exemple"
    settings.siret = "21990001600018"
    settings.town_hall_address = "1 place de la Mairie\n99999 Saint-Exemple"
    settings.save()
    return settings


@pytest.fixture
def attested(dupont, young, eligible, care, agent, town):
    buy(dupont["family"], care, 5, 150, agent)
    book(young, eligible, DAYS[:3], dupont["user"])
    return dupont


def pdf_text(content):
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_family_downloads_its_attestation_from_january(client, attested):
    url = reverse("portal:tax_attestation_pdf", args=[2026])
    with time_machine.travel(datetime.datetime(2026, 12, 20, 9, tzinfo=PARIS)):
        client.force_login(attested["user"])
        page = client.get(reverse("portal:tax_attestations"))
        assert "Année 2026 — en cours" in page.content.decode() and "4,50 €" in page.content.decode()
        assert client.get(url).status_code == 404
    with time_machine.travel(IN_JANUARY):
        client.force_login(attested["user"])
        page = client.get(reverse("portal:tax_attestations"))
        assert url in page.content.decode()
        response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    for expected in ("Attestation de frais de garde — année 2026", "Ville de Saint-Exemple",
                     "SIRET : 21990001600018", "1 place de la Mairie", "Famille Dupont",
                     "Responsable : Dupont", "Léa Dupont, né(e) le 02/06/2020 : 3 jour(s) de garde, 4,50 €",
                     "Total payé pour la garde en 2026 : 4,50 €", "200 quater B", "Établie le 05/01/2027"):
        assert expected in text, (expected, text)
    assert "Provisoire" not in text


def test_another_family_gets_a_404_and_a_visitor_the_login_page(client, attested, martin):
    url = reverse("portal:tax_attestation_pdf", args=[2026])
    with time_machine.travel(IN_JANUARY):
        response = client.get(url)
        assert response.status_code == 302 and reverse("portal:login") in response["Location"]
        client.force_login(martin["user"])
        assert client.get(url).status_code == 404
        assert "4,50" not in client.get(reverse("portal:tax_attestations")).content.decode()
        for year in (1999, 2027, 99999):
            client.force_login(attested["user"])
            assert client.get(reverse("portal:tax_attestation_pdf", args=[year])).status_code == 404


def three_more_families(school, care, eligible, agent, n):
    for i in range(n):
        user, family, kids = make_family(f"Famille{i}", f"famille{i}@example.org", school)
        Child.objects.filter(pk=kids[0].pk).update(birth_date=datetime.date(2021, 5, 1))
        kids[0].refresh_from_db()
        buy(family, care, 3, 150, agent)
        book(kids[0], eligible, DAYS[:2], user)


def test_the_agents_bulk_export_has_every_attestation_in_constant_queries(
        admin_client, attested, school, care, eligible, agent):
    url = reverse("paiements:tax_attestations")
    assert admin_client.get(url).status_code == 200

    def export(fmt):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url, {"year": "2026", "export": fmt})
            content = b"".join(response.streaming_content)
        return response, content, len(queries)

    _r, _c, one_family_zip = export("zip")
    _r, _c, one_family_csv = export("csv")
    three_more_families(school, care, eligible, agent, 3)
    response, content, four_families_zip = export("zip")
    assert four_families_zip == one_family_zip
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert len(names) == 4 and all(n.startswith("attestation-frais-de-garde-2026-") for n in names)
    response, content, four_families_csv = export("csv")
    assert four_families_csv == one_family_csv
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("famille_id;famille;responsables;enfant")
    assert any("Famille Dupont" in line and "Léa Dupont;02/06/2020;3;4,50;" in line for line in lines)
    assert len(lines) == 5


def test_bad_years_get_a_message_and_families_no_back_office(admin_client, client, attested):
    url = reverse("paiements:tax_attestations")
    response = admin_client.get(url, {"year": "deux mille", "export": "zip"})
    assert response.status_code == 400 and "Saisissez un nombre entier" in response.content.decode()
    response = admin_client.get(url, {"year": "2999", "export": "csv"})
    assert response.status_code == 400 and "année passée" in response.content.decode()
    client.force_login(attested["user"])
    assert client.get(url, {"year": "2026", "export": "csv"}).status_code in (302, 403)


def test_the_service_form_sets_the_flag_and_refuses_it_for_a_meal(admin_client, school, care):
    data = {"name": "Mercredi", "schools": [school.pk], "ticket_type": care.pk, "weekday_choices": ["2"],
            "weekdays": "", "start": "2026-09-02", "end": "2027-07-03", "capacity": "", "order": "3",
            "booking_rule": "days_before", "booking_days": "2", "booking_weekday": "3",
            "booking_time": "10:00", "cancel_rule": "days_before", "cancel_days": "2",
            "cancel_weekday": "3", "cancel_time": "10:00", "unbooked_penalty": "1",
            "sick_rule": "first_day", "childcare_tax_credit": "on"}
    assert admin_client.post(reverse("prestations:add"), data).status_code == 302
    assert Service.objects.get(name="Mercredi").childcare_tax_credit
    response = admin_client.post(reverse("prestations:add"), {**data, "name": "Cantine", "is_meal": "on"})
    assert response.status_code == 200
    assert "Un repas n’est pas un frais de garde" in response.content.decode()
    assert not Service.objects.filter(name="Cantine").exists()


def test_the_demo_family_sees_its_attestation_and_a_second_load_changes_nothing(client):
    from django.core.management import call_command

    from portal.models import Purchase
    from portal.services.wallet import find_inconsistencies

    with time_machine.travel(datetime.datetime(2026, 11, 16, 9, tzinfo=PARIS)):
        call_command("load_demo", stdout=io.StringIO())
        family = Child.objects.get(first_name="Jules", last_name="Lefèvre").family
        first, paid = amounts(family), Purchase.objects.filter(family=family).count()
        call_command("load_demo", stdout=io.StringIO())
        assert amounts(family) == first and Purchase.objects.filter(family=family).count() == paid
        assert find_inconsistencies() == []
        client.force_login(family.guardians.get())
        page = client.get(reverse("portal:tax_attestations")).content.decode()
    # Jules (CP, 6 in April) and Nora (MS) went to the evening care, paid 0,80 € a ticket.
    assert set(first) == {"Jules", "Nora"} and all(cents == days * 80 for days, cents in first.values())
    assert "Jules Lefèvre" in page and "Année 2026 — en cours" in page
    with time_machine.travel(IN_JANUARY):
        client.force_login(family.guardians.get())
        response = client.get(reverse("portal:tax_attestation_pdf", args=[2026]))
    assert response.status_code == 200 and "SIRET : 21990001600018" in pdf_text(response.content)


def test_the_family_page_costs_the_same_queries_whatever_its_years_and_children(
        client, attested, eligible, care, agent, school):
    url = reverse("portal:tax_attestations")
    with time_machine.travel(datetime.datetime(2027, 2, 1, 9, tzinfo=PARIS)):
        client.force_login(attested["user"])
        client.get(url)  # the session's and the town settings' first reads
        with CaptureQueriesContext(connection) as one_year:
            assert "Année 2026" in client.get(url).content.decode()
        baby = Child.objects.create(family=attested["family"], first_name="Max", last_name="Dupont",
                                    birth_date=datetime.date(2023, 2, 1), school=school)
        buy(attested["family"], care, 5, 150, agent)
        book(baby, eligible, DAYS[:2], attested["user"])
        book_day(baby, eligible, datetime.date(2027, 1, 7), by=attested["user"],
                 now=datetime.datetime(2027, 1, 4, 8, tzinfo=PARIS))
        client.get(url)
        with CaptureQueriesContext(connection) as two_years:
            page = client.get(url).content.decode()
    assert len(two_years) == len(one_year)
    assert "Année 2027 — en cours" in page and "Max Dupont" in page and "Année 2026" in page


def test_a_penalty_paid_later_by_a_purchase_counts_at_that_purchases_price(dupont, young, eligible, care,
                                                                           agent):
    evening_after = datetime.datetime(2026, 9, 14, 19, 0, tzinfo=PARIS)
    # Present without a booking and without a ticket: a debt, paid by the next purchase.
    attendance.mark_child(young.school, eligible, DAYS[0], young, present=True, by=agent, now=evening_after)
    attendance.close_roll_call(young.school, eligible, DAYS[0], by=agent, now=evening_after)
    assert amounts(dupont["family"]) is None
    buy(dupont["family"], care, 3, 210, agent)
    assert amounts(dupont["family"]) == {"Léa": (1, 210)}


def test_a_closure_giving_the_tickets_back_takes_the_days_off_the_attestation(dupont, young, eligible,
                                                                              care, agent):
    from django.db import transaction

    from portal.models import Closure
    from portal.services.closures import apply_closure

    buy(dupont["family"], care, 3, 150, agent)
    book(young, eligible, DAYS[:3], dupont["user"])
    with transaction.atomic():
        closure = Closure.objects.create(reason="Grève", start=DAYS[1], end=DAYS[2])
        apply_closure(closure, by=agent, now=NOW)
    assert amounts(dupont["family"]) == {"Léa": (1, 150)}


def test_the_command_writes_the_same_zip_and_csv_for_a_large_town(attested, tmp_path):
    from django.core.management import CommandError, call_command

    call_command("export_tax_attestations", "2026", "--zip", str(tmp_path / "a.zip"),
                 "--csv", str(tmp_path / "a.csv"), stdout=io.StringIO())
    names = zipfile.ZipFile(tmp_path / "a.zip").namelist()
    assert names == [f"attestation-frais-de-garde-2026-famille-{attested['family'].pk}.pdf"]
    assert "Léa Dupont;02/06/2020;3;4,50;" in (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    with pytest.raises(CommandError, match="Année entre"):
        call_command("export_tax_attestations", "3000", "--csv", str(tmp_path / "b.csv"))
