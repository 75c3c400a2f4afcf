"""Separated parents in a real browser: the father's household books a day of the shared child,
the mother's then sees it as « Réservé par l’autre foyer » (no button) and books another."""

import datetime
import re

import pytest

from portal.models import Booking, Child
from tests.e2e.conftest import log_in_family, validated_family

# The browser and the canteen (bookable_canteen) come from tests/e2e/conftest.py.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_households(bookable_canteen):
    """Léa, child of two validated households (her mother's first), each with 2 tickets."""
    meal = bookable_canteen["meal"]
    _mother, mother = validated_family("maman@example.org", "Famille Test", meal)
    _father, father = validated_family("papa@example.org", "Foyer du père", meal)
    child = Child.objects.create(family=mother, other_family=father, first_name="Léa", last_name="Test",
                                 birth_date=datetime.date(2018, 1, 1), school=bookable_canteen["school"])
    return {"child": child, "mother": mother, "father": father, "month": bookable_canteen["month"]}


def test_each_household_books_its_own_day_and_sees_the_others_as_reserve_par_l_autre_foyer(
        browser, live_server, two_households):
    from playwright.sync_api import expect

    data = two_households
    url = f"{live_server.url}/famille/planning/enfant/{data['child'].pk}/?mois={data['month']}"

    father = browser.new_context(locale="fr-FR").new_page()
    log_in_family(father, live_server, "papa@example.org")
    father.goto(url)
    first = father.get_by_role("button", name=re.compile("— Réserver Cantine")).first
    cell = first.get_attribute("id")
    first.click()
    expect(father.locator("#planning-status")).to_contain_text("Réservé : Cantine")
    expect(father.locator("#balances")).to_contain_text("Repas : 1")

    mother = browser.new_context(locale="fr-FR").new_page()
    log_in_family(mother, live_server, "maman@example.org")
    mother.goto(url)
    theirs = mother.locator(f"#{cell}")
    expect(theirs).to_contain_text("Réservé par l’autre foyer")
    expect(mother.locator(f"#{cell} button")).to_have_count(0)  # nothing to click: not hers to cancel
    mother.get_by_role("button", name=re.compile("— Réserver Cantine")).first.click()
    expect(mother.locator("#planning-status")).to_contain_text("Réservé : Cantine")
    expect(mother.locator("#balances")).to_contain_text("Repas : 1")

    assert sorted(Booking.objects.values_list("family__name", flat=True)) == ["Famille Test", "Foyer du père"]
