"""Browser fixtures: Playwright's sync API driving Debian's Chromium against pytest-django's live server."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser(django_db_setup):
    if not CHROMIUM.exists():
        reason = "Debian's Chromium is missing at /usr/bin/chromium (run scripts/install-chromium.sh)"
        # CI sets PREAU_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
        if os.environ.get("PREAU_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Starting Playwright's sync API (greenlets) gives this thread fresh database connection
    # objects; the data kept for serialized rollback lives on the old one, so carry it over.
    serialized = getattr(connections["default"], "_test_serialized_contents", None)
    with sync_playwright() as playwright:
        if serialized is not None:
            connections["default"]._test_serialized_contents = serialized
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


def _new_page(browser, viewport, live_server):
    context = browser.new_context(viewport=viewport, locale="fr-FR", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    return context, page


@pytest.fixture
def page(browser, demo, live_server):
    """A phone-sized tab (390×844) on the demo town: most families use the portal on a phone."""
    context, page = _new_page(browser, PHONE, live_server)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser, demo, live_server):
    context, page = _new_page(browser, DESKTOP, live_server)
    yield page
    context.close()


@pytest.fixture
def demo(django_db_serialized_rollback, transactional_db):
    """The demo town. Serialized rollback brings back what Wagtail's data migrations created
    (root page, root collection, groups), which the live server's table flush removes."""
    call_command("load_demo", stdout=open(os.devnull, "w"))


@pytest.fixture(scope="session")
def assert_accessible():
    """axe-core on the current page: nothing 'serious' or 'critical' (minor/moderate are reported only)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page):
        _check(axe, page)

    return check


def _check(axe, page):
    results = axe.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    lines = []
    for violation in bad:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
    if bad:
        pytest.fail(f"axe found serious accessibility problems on {page.url}:\n" + "\n".join(lines))
