"""Booking and cancelling in a real browser, with the mouse, the keyboard and without JavaScript."""

import datetime
import re

import pytest
from django.utils import timezone

from portal.models import Booking, Child, Family, School, Service, TicketType, User, Wallet
from portal.services.wallet import credit_tickets, get_wallet

# The browser fixture (Debian's Chromium, shared per module) comes from tests/e2e/conftest.py.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def family_with_tickets():
    school = School.objects.create(name="École Jules-Ferry")
    meal = TicketType.objects.create(name="Repas")
    today = timezone.localdate()
    canteen = Service.objects.create(name="Cantine", weekdays="01234", start=today,
                                     end=today + datetime.timedelta(days=120), ticket_type=meal,
                                     booking_days=1, cancel_days=1)
    canteen.schools.add(school)
    user = User.objects.create_user(email="parent@example.org", password="un-mot-de-passe-long")
    family = Family.objects.create(name="Famille Test", status=Family.Status.VALIDATED)
    family.guardians.add(user)
    child = Child.objects.create(family=family, first_name="Léa", last_name="Test",
                                 birth_date=datetime.date(2018, 1, 1), school=school)
    credit_tickets(get_wallet(family, meal), 2, "Achat", by=None)
    # The month after next is always entirely bookable (no deadline reached yet).
    month = (today.replace(day=1) + datetime.timedelta(days=40)).strftime("%Y-%m")
    return {"user": user, "child": child, "wallet": Wallet.objects.get(family=family), "month": month}


def login(page, live_server):
    page.goto(f"{live_server.url}/famille/connexion/")
    page.locator("input[name=username]").fill("parent@example.org")
    page.locator("input[name=password]").fill("un-mot-de-passe-long")
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


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
    login(page, live_server)
    page.goto(f"{live_server.url}/famille/planning/enfant/{data['child'].pk}/?mois={data['month']}")
    balance = page.locator("#balances")
    expect(balance).to_contain_text("Repas : 2")

    # Mouse: book the first available day.
    first = page.get_by_role("button", name=re.compile("^Réserver Cantine")).first
    first_id = first.get_attribute("id")
    first.click()
    expect(page.locator("#planning-status")).to_contain_text("Réservé : Cantine")
    expect(balance).to_contain_text("Repas : 1")
    expect(page.locator(f"#{first_id}")).to_have_attribute("aria-label", re.compile("^Annuler"))
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
    expect(page.locator(f"#{second_id}")).to_have_attribute("aria-label", re.compile("^Annuler"))
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
    login(page, live_server)
    page.goto(f"{live_server.url}/famille/planning/?mois={data['month']}")
    page.get_by_role("button", name=re.compile("^Réserver Cantine")).first.click()
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
    login(page, live_server)
    page.goto(f"{live_server.url}/famille/planning/?mois={data['month']}")
    day = page.get_by_role("button", name=re.compile("^Réserver Cantine")).first
    day_id = day.get_attribute("id")

    # The network drops: the parent is told, the day stays bookable and no longer looks busy.
    page.route("**/famille/planning/clic/", lambda route: route.abort())
    day.click()
    expect(page.locator("#planning-status")).to_contain_text("vérifiez votre connexion")
    expect(page.locator(f"#{day_id}")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator(f"#{day_id}")).to_have_attribute("aria-label", re.compile("^Réserver"))
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
