"""The e-mail choices and calendar page in a browser: keyboard, copy button, accessibility."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_phone_browser import SIZES, log_in, phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_parent_creates_the_calendar_address_and_copies_it_with_the_keyboard(
        browser, live_server, demo, assert_accessible):
    context, page = phone(browser, live_server, SIZES[0],
                          permissions=["clipboard-read", "clipboard-write"])
    log_in(page)
    page.goto("/famille/notifications/")
    assert_accessible(page)
    page.get_by_role("button", name="Créer l’adresse de mon agenda").tap()
    field = page.get_by_label("Adresse privée de votre agenda")
    expect(field).to_have_value(re.compile(r"/famille/agenda/[\w-]+\.ics$"))
    copy = page.get_by_role("button", name="Copier l’adresse")
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Adresse copiée.")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[0]["width"]
    assert_accessible(page)
    context.close()
