"""The public site in a real browser, at phone size unless said otherwise."""

import re

from playwright.sync_api import expect

SCREENSHOTS = "/tmp/preau-screenshots"


def test_home_page_shows_quick_links_and_footer_contacts(page, assert_accessible):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    quick_links = page.get_by_role("region", name="Accès rapides")
    expect(quick_links.get_by_role("link").first).to_be_visible()
    footer = page.get_by_role("contentinfo")
    expect(footer.get_by_role("link", name="01 23 45 67 89")).to_have_attribute("href", "tel:0123456789")
    expect(footer.get_by_role("link", name="06 12 34 56 78")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/home-phone.png", full_page=True)
    assert_accessible(page)


def test_skip_link_moves_keyboard_focus_to_the_main_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()
    assert page.url.endswith("#contenu")


def test_home_page_at_desktop_size_shows_the_navigation_on_one_line(desktop_page, assert_accessible):
    page = desktop_page
    page.goto("/")
    nav = page.get_by_role("navigation", name="Menu principal")
    links = nav.get_by_role("link")
    expect(links).to_have_count(5)
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(5)}
    assert len(tops) == 1, f"the main navigation wraps at desktop size: {tops}"
    page.screenshot(path=f"{SCREENSHOTS}/home-desktop.png", full_page=True)
    assert_accessible(page)


def test_login_page_is_accessible(page, assert_accessible):
    page.goto("/famille/connexion/")
    expect(page.get_by_label("Adresse e-mail")).to_be_focused()
    expect(page).to_have_title(re.compile("Connexion"))
    assert_accessible(page)


def test_language_switcher_turns_the_site_into_english_and_back(page):
    page.goto("/contact/")
    page.get_by_role("button", name="Menu").click()  # on a phone the switcher is in the menu
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/contact/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Menu").click()
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link", name="Help")).to_be_visible()
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("button", name="Menu").click()
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav.get_by_role("link", name="Aide")).to_be_visible()
