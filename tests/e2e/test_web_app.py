"""The installable web app: a valid manifest, a service worker that registers, the last seen
planning readable with the network cut, and nothing of a parent left once they log out."""

import datetime
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "preau-demo-2026"
KEPT = """async () => {
  const out = [];
  for (const name of await caches.keys()) {
    if (!name.startsWith("preau-pages")) continue;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) out.push(new URL(request.url).pathname);
  }
  return out;
}"""


def log_in(page, email):
    page.goto("/famille/connexion/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/famille/$"))


def kept_pages(page):
    return [p for p in page.evaluate(KEPT) if not p.startswith("/__preau__/")]


def wait_until_kept(page, path):
    for _ in range(100):
        if path in kept_pages(page):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{path} was not kept: {kept_pages(page)}")


def test_the_manifest_is_valid_with_the_towns_name_and_png_icons(browser, live_server, demo):
    from PIL import Image

    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    response = page.request.get(href)
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == "Ville de Saint-Exemple — Périscolaire"
    assert manifest["start_url"] == "/famille/" and manifest["display"] == "standalone"
    assert manifest["theme_color"] == page.locator("meta[name=theme-color]").get_attribute("content")
    sizes = set()
    for icon in manifest["icons"]:
        image = Image.open(io.BytesIO(page.request.get(icon["src"]).body()))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(image.width)
    assert {192, 512} <= sizes
    context.close()


def test_a_page_seen_once_is_readable_offline_and_logging_out_empties_the_copies(browser, live_server,
                                                                                    demo):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR",
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, "famille.demo@example.org")
    month = (timezone.localdate().replace(day=1) + datetime.timedelta(days=40)).strftime("%Y-%m")
    page.goto(f"/famille/planning/?mois={month}")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)").endswith("/sw.js")
    page.reload()  # now controlled by the worker, which keeps what it serves
    wait_until_kept(page, "/famille/planning/")
    heading = page.locator(".period-title")
    title = heading.inner_text()

    context.set_offline(True)
    page.reload()
    expect(heading).to_have_text(title)
    banner = page.locator("#offline-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Hors ligne — dernière mise à jour")
    expect(banner).to_contain_text("reconnectez-vous")
    # Nothing can be booked offline: the days' buttons are disabled.
    assert page.locator("button[name=book]").count() > 0
    assert page.locator("button[name=book]:enabled").count() == 0
    page.goto("/famille/dossier/")  # never seen: the offline page says so
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes hors ligne")
    context.set_offline(False)

    page.goto("/famille/")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state()
    assert kept_pages(page) == []
    context.set_offline(True)
    try:
        page.goto(f"/famille/planning/?mois={month}")
    except PlaywrightError:  # Clear-Site-Data also removed the worker: nothing at all to read
        pass
    expect(page.locator("#planning-region")).to_have_count(0)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    context.close()


def test_another_parent_on_the_same_device_never_reads_the_first_ones_pages(browser, live_server, demo):
    context = browser.new_context(locale="fr-FR", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, "famille.demo@example.org")
    page.goto("/famille/porte-monnaie/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    wait_until_kept(page, "/famille/porte-monnaie/")
    # The first session ends without a logout (timed out, cookies cleared); someone else logs in.
    context.clear_cookies()
    log_in(page, "famille2.demo@example.org")
    assert "/famille/porte-monnaie/" not in kept_pages(page)
    context.set_offline(True)
    page.goto("/famille/porte-monnaie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes hors ligne")
    context.close()
