"""Separated parents in a real browser: the father's household books a day of the shared child,
the mother's then sees it as « Réservé par l’autre foyer » (no button) and books another."""

import datetime
import re

import pytest
from django.utils import timezone

from portal.models import Booking, Child, Family, School, Service, TicketType, User
from portal.services.wallet import credit_tickets, get_wallet

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "un-mot-de-passe-long"


@pytest.fixture
def two_households():
    school = School.objects.create(name="École Jules-Ferry")
    meal = TicketType.objects.create(name="Repas")
    today = timezone.localdate()
    canteen = Service.objects.create(name="Cantine", weekdays="01234", start=today,
                                     end=today + datetime.timedelta(days=120), ticket_type=meal,
                                     booking_days=1, cancel_days=1)
    canteen.schools.add(school)
    households = []
    for email, name in (("maman@example.org", "Famille Test"), ("papa@example.org", "Foyer du père")):
        user = User.objects.create_user(email=email, password=PASSWORD)
        family = Family.objects.create(name=name, status=Family.Status.VALIDATED)
        family.guardians.add(user)
        credit_tickets(get_wallet(family, meal), 2, "Achat", by=None)
        households.append(family)
    child = Child.objects.create(family=households[0], other_family=households[1], first_name="Léa",
                                 last_name="Test", birth_date=datetime.date(2018, 1, 1), school=school)
    # The month after next is always entirely bookable (no deadline reached yet).
    month = (today.replace(day=1) + datetime.timedelta(days=40)).strftime("%Y-%m")
    return {"child": child, "mother": households[0], "father": households[1], "month": month}


def login(page, live_server, email):
    page.goto(f"{live_server.url}/famille/connexion/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def test_each_household_books_its_own_day_and_sees_the_others_as_reserve_par_l_autre_foyer(
        browser, live_server, two_households):
    from playwright.sync_api import expect

    data = two_households
    url = f"{live_server.url}/famille/planning/enfant/{data['child'].pk}/?mois={data['month']}"

    father = browser.new_context(locale="fr-FR").new_page()
    login(father, live_server, "papa@example.org")
    father.goto(url)
    first = father.get_by_role("button", name=re.compile("^Réserver Cantine")).first
    cell = first.get_attribute("id")
    first.click()
    expect(father.locator("#planning-status")).to_contain_text("Réservé : Cantine")
    expect(father.locator("#balances")).to_contain_text("Repas : 1")

    mother = browser.new_context(locale="fr-FR").new_page()
    login(mother, live_server, "maman@example.org")
    mother.goto(url)
    theirs = mother.locator(f"#{cell}")
    expect(theirs).to_contain_text("Réservé par l’autre foyer")
    expect(mother.locator(f"#{cell} button")).to_have_count(0)  # nothing to click: not hers to cancel
    mother.get_by_role("button", name=re.compile("^Réserver Cantine")).first.click()
    expect(mother.locator("#planning-status")).to_contain_text("Réservé : Cantine")
    expect(mother.locator("#balances")).to_contain_text("Repas : 1")

    assert sorted(Booking.objects.values_list("family__name", flat=True)) == ["Famille Test", "Foyer du père"]
