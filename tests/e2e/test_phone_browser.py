"""The family pages on phones (360×740 and 390×844, touch): no horizontal scroll, the first
bookable day in the first screen, booking and cancelling by taps, the header's menu button."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import Booking, Child

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0 Mobile Safari/537.36")
SIZES = [{"width": 360, "height": 740}, {"width": 390, "height": 844}]
PASSWORD = "preau-demo-2026"


def phone(browser, live_server, size, **options):
    context = browser.new_context(viewport=size, user_agent=PHONE_UA, is_mobile=True, has_touch=True,
                                  locale="fr-FR", base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def log_in(page, email="famille.demo@example.org"):
    page.goto("/famille/connexion/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/famille/$"))  # the dashboard is the parent's home


def assert_no_axe_violation(page):
    """The new views: no axe violation at all, whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    assert not violations, [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]


def family_pages():
    child = Child.objects.filter(family__guardians__email="famille.demo@example.org").order_by("pk").first()
    return ["/famille/", "/famille/planning/", "/famille/planning/?mois=2026-10",
            f"/famille/planning/enfant/{child.pk}/", f"/famille/planning/enfant/{child.pk}/?mois=2026-10",
            "/famille/planning/semaine-type/", "/famille/porte-monnaie/", "/famille/porte-monnaie/acheter/",
            "/famille/porte-monnaie/achats/", "/famille/dossier/", "/famille/dossier/reglement/",
            "/famille/foyer/", f"/famille/enfants/{child.pk}/", "/famille/compte/",
            "/famille/notifications/"]


@pytest.mark.parametrize("size", SIZES, ids=["360x740", "390x844"])
def test_no_family_page_scrolls_sideways_and_the_first_bookable_day_is_in_the_first_screen(
        browser, live_server, demo, size):
    context, page = phone(browser, live_server, size)
    log_in(page)
    for url in family_pages():
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{url} is {width} px wide in a {size['width']} px screen"
    page.goto("/famille/planning/")
    expect(page.get_by_role("heading", level=2, name=re.compile("^Semaine du"))).to_be_visible()
    first = page.locator("button[name=book]").first
    top = first.bounding_box()["y"]
    assert top < 844, f"the first bookable day starts at {top} px"
    # A tap target: 44×44 px at least, its state said in text beside the icon.
    box = first.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    expect(first).to_contain_text("Disponible")
    assert first.locator("svg use").count() == 1
    assert_no_axe_violation(page)
    for url in ("/famille/", "/famille/planning/?mois=2026-10", "/hors-ligne/"):
        page.goto(url)
        assert_no_axe_violation(page)
    context.close()


def test_booking_and_cancelling_by_taps_update_the_day_and_the_balance(browser, live_server, demo):
    context, page = phone(browser, live_server, SIZES[1])
    log_in(page)
    page.goto("/famille/planning/")
    # At least two weeks ahead, where no deadline is near (a day booked there can be cancelled),
    # skipping school holidays, which have no day to book.
    for weeks in range(8):
        if weeks >= 2 and page.locator("button[name=book]").count():
            break
        page.get_by_role("link", name="Semaine suivante").tap()
        page.wait_for_load_state()
    day = page.locator("button[name=book]").first
    day_id = day.get_attribute("id")
    label = day.get_attribute("aria-label")
    service = re.search(r" — Réserver (.+?) le ", label).group(1)
    balances = page.locator("#balances strong").all_inner_texts()
    before = Booking.objects.filter(status="active").count()

    day.tap()
    expect(page.locator("#planning-status")).to_contain_text("Réservé : " + service)
    expect(page.locator(f"#{day_id}")).to_have_attribute("aria-label", re.compile(" — Annuler "))
    expect(page.locator(f"#{day_id}")).to_contain_text("Réservé")
    assert Booking.objects.filter(status="active").count() == before + 1
    assert page.locator("#balances strong").all_inner_texts() != balances

    page.locator(f"#{day_id}").tap()
    expect(page.locator("#planning-status")).to_contain_text("Réservation annulée")
    expect(page.locator(f"#{day_id}")).to_have_attribute("aria-label", re.compile(" — Réserver "))
    assert page.locator("#balances strong").all_inner_texts() == balances
    assert Booking.objects.filter(status="active").count() == before
    context.close()


def test_the_menu_button_opens_and_closes_the_menu_by_keyboard(browser, live_server, demo):
    context, page = phone(browser, live_server, SIZES[0])
    page.goto("/")
    button = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Menus")).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Menus")).to_be_focused()
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(nav).to_be_hidden()
    page.keyboard.press("Space")
    expect(button).to_have_attribute("aria-expanded", "true")
    context.close()


def test_without_javascript_the_menu_stays_open_and_there_is_no_button(browser, live_server, demo):
    context, page = phone(browser, live_server, SIZES[0], java_script_enabled=False)
    page.goto("/")
    expect(page.get_by_role("button", name="Menu")).to_have_count(0)
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav.get_by_role("link", name="Menus")).to_be_visible()
    context.close()
