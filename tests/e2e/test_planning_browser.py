"""Booking and cancelling in a real browser, with the mouse, the keyboard and without JavaScript."""

import datetime
import re

import pytest

from portal.models import Booking, Child, Wallet
from tests.e2e.conftest import log_in_family, validated_family

# The browser and the canteen (bookable_canteen) come from tests/e2e/conftest.py.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
EMAIL = "parent@example.org"


@pytest.fixture
def family_with_tickets(bookable_canteen):
    """Léa's family, validated, with 2 « Repas » tickets for the shared canteen."""
    user, family = validated_family(EMAIL, "Famille Test", bookable_canteen["meal"])
    child = Child.objects.create(family=family, first_name="Léa", last_name="Test",
                                 birth_date=datetime.date(2018, 1, 1), school=bookable_canteen["school"])
    return {"user": user, "child": child, "wallet": Wallet.objects.get(family=family),
            "month": bookable_canteen["month"]}


def htmx_idle(page):
    """A key pressed while htmx is still swapping or settling may land on a replaced element."""
    # Polled from Python: wait_for_function would need eval(), which the page's CSP forbids.
    busy = "!!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    for _ in range(100):
        if not page.evaluate(busy):
            return
        page.wait_for_timeout(50)
    raise AssertionError("htmx was still busy after 5 seconds")


def test_booking_and_cancelling_with_mouse_and_keyboard_update_the_balance(browser, live_server,
                                                                          family_with_tickets):
    from playwright.sync_api import expect

    data = family_with_tickets
    page = browser.new_page(locale="fr-FR")
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in_family(page, live_server, EMAIL)
    page.goto(f"{live_server.url}/famille/planning/enfant/{data['child'].pk}/?mois={data['month']}")
    balance = page.locator("#balances")
    expect(balance).to_contain_text("Repas : 2")

    # Mouse: book the first available day.
    first = page.get_by_role("button", name=re.compile("— Réserver Cantine")).first
    first_id = first.get_attribute("id")
    first.click()
    expect(page.locator("#planning-status")).to_contain_text("Réservé : Cantine")
    expect(balance).to_contain_text("Repas : 1")
    expect(page.locator(f"#{first_id}")).to_have_attribute("aria-label", re.compile(" — Annuler "))
    # Only that cell and the balance were swapped in: the focus stays on the day just booked.
    expect(page.locator(f"#{first_id}")).to_be_focused()
    assert Booking.objects.filter(status="active").count() == 1

    # Keyboard: Tab from the booked day to the next one, book it with Enter; focus stays there.
    htmx_idle(page)
    page.locator(f"#{first_id}").focus()
    page.keyboard.press("Tab")
    second_id = page.evaluate("document.activeElement.id")
    assert second_id and second_id != first_id
    page.keyboard.press("Enter")
    expect(balance).to_contain_text("Repas : 0")
    expect(page.locator(f"#{second_id}")).to_have_attribute("aria-label", re.compile(" — Annuler "))
    expect(page.locator(f"#{second_id}")).to_be_focused()
    # No ticket left: the other days say so in text.
    expect(page.locator(".st-no_ticket").first).to_contain_text("Pas de ticket")

    # Keyboard: Space cancels the focused booking and gives the ticket back.
    htmx_idle(page)
    page.keyboard.press("Space")
    expect(page.locator("#planning-status")).to_contain_text("Réservation annulée")
    expect(balance).to_contain_text("Repas : 1")
    data["wallet"].refresh_from_db()
    assert data["wallet"].balance == 1
    assert Booking.objects.filter(status="active").count() == 1
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_booking_works_without_javascript(browser, live_server, family_with_tickets):
    from playwright.sync_api import expect

    data = family_with_tickets
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    log_in_family(page, live_server, EMAIL)
    page.goto(f"{live_server.url}/famille/planning/?mois={data['month']}")
    page.get_by_role("button", name=re.compile("— Réserver Cantine")).first.click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Réservé : Cantine")
    expect(page.locator("#balances")).to_contain_text("Repas : 1")
    assert Booking.objects.filter(status="active").count() == 1
    context.close()


def test_a_click_that_cannot_reach_the_server_says_so_and_a_lost_session_goes_to_login(
        browser, live_server, family_with_tickets):
    from playwright.sync_api import expect

    data = family_with_tickets
    page = browser.new_page(locale="fr-FR")
    log_in_family(page, live_server, EMAIL)
    page.goto(f"{live_server.url}/famille/planning/?mois={data['month']}")
    day = page.get_by_role("button", name=re.compile("— Réserver Cantine")).first
    day_id = day.get_attribute("id")

    # The network drops: the parent is told, the day stays bookable and no longer looks busy.
    page.route("**/famille/planning/clic/", lambda route: route.abort())
    day.click()
    expect(page.locator("#planning-status")).to_contain_text("vérifiez votre connexion")
    expect(page.locator(f"#{day_id}")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator(f"#{day_id}")).to_have_attribute("aria-label", re.compile(" — Réserver "))
    assert not Booking.objects.exists()

    # The server refuses the request (here its CSRF cookie is gone): the parent is told to reload.
    page.unroute("**/famille/planning/clic/")
    page.context.clear_cookies(name="csrftoken")
    htmx_idle(page)
    page.locator(f"#{day_id}").click()
    expect(page.locator("#planning-status")).to_contain_text("rechargez la page")
    assert not Booking.objects.exists()

    # The session ended meanwhile (timed out, logged out elsewhere): the click leads to the login
    # page, not to a login form swapped into the planning.
    page.reload()
    page.context.clear_cookies(name="sessionid")
    page.locator(f"#{day_id}").click()
    expect(page).to_have_url(re.compile(r"/famille/connexion/\?next="))
    expect(page.locator("#planning-region")).to_have_count(0)
    assert not Booking.objects.exists()
    page.close()
