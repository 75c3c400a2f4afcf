"""Browser fixtures: Playwright's sync API driving Debian's Chromium against pytest-django's live server."""

import datetime
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import MIGRATED_DATA

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


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: a module that starts its own Playwright never runs while
    ours is alive (two sync Playwright instances cannot share the thread)."""
    if not CHROMIUM.exists():
        reason = "Debian's Chromium is missing at /usr/bin/chromium (run scripts/install-chromium.sh)"
        # CI sets PREAU_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
        if os.environ.get("PREAU_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


def new_tab(browser, live_server, viewport):
    """A tab of its own (own cookies: one person logged in) at `viewport`, French, relative URLs
    on the live server. Returns (context, page): close the context when done."""
    context = browser.new_context(viewport=viewport, locale="fr-FR", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    return context, page


@pytest.fixture
def page(browser, demo, live_server):
    """A phone-sized tab (390×844) on the demo town: most families use the portal on a phone."""
    context, page = new_tab(browser, live_server, PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser, demo, live_server):
    context, page = new_tab(browser, live_server, DESKTOP)
    yield page
    context.close()


@pytest.fixture(scope="session")
def migrated_data(request):
    """What the migrations put in the database (Wagtail's root page and collection, groups, the 14
    allergens…), taken by tests/conftest.py's `_migrated_data_snapshot` before any test of the
    session ran (a transactional test's flush empties the tables)."""
    snapshot = request.config.stash.get(MIGRATED_DATA, None)
    if snapshot is None:
        pytest.fail("The migrations' data was not taken before the tests (tests/conftest.py).")
    return snapshot


@pytest.fixture
def migrated_tables(migrated_data, transactional_db):
    """What the migrations put in the database (the Agents group, Wagtail's root page…), back.
    The live server needs committed data, so each test ends with a table flush (by us or by
    another transactional test): put the migrations' data back when it is gone. Done here rather
    than with Django's serialized rollback, which breaks when a transactional test without it ran
    before (its flush recreates content types under new ids)."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache
    from django.core.management.color import no_style
    from django.db import connection
    from wagtail.models import Page

    if not Page.objects.filter(depth=1).exists():
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        connection.creation.deserialize_db_from_string(migrated_data)
        # As loaddata does: move id sequences past the restored rows.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                cursor.execute(sql)
        # Content type ids are back to the snapshot's: drop the ids cached since the flush.
        ContentType.objects.clear_cache()
        cache.clear()


@pytest.fixture
def demo(migrated_tables):
    """The demo town, on the migrations' data."""
    from django.core import mail

    call_command("load_demo", stdout=open(os.devnull, "w"))
    # E-mails sent while building the demo (receipts…) are not the test's own.
    mail.outbox = []


FAMILY_PASSWORD = "un-mot-de-passe-long"


@pytest.fixture
def bookable_canteen(migrated_tables):
    """A school whose canteen (« Repas » tickets, every weekday, booked and cancelled until the
    day before) runs from today for four months, and `month`: the month after next, which is
    always entirely bookable (no deadline reached yet). No demo town: the planning alone, on
    the migrations' data (agents can log in to the admin)."""
    from portal.models import School, Service, TicketType

    school = School.objects.create(name="École Jules-Ferry")
    meal = TicketType.objects.create(name="Repas")
    today = timezone.localdate()
    canteen = Service.objects.create(name="Cantine", weekdays="01234", start=today,
                                     end=today + datetime.timedelta(days=120), ticket_type=meal,
                                     booking_days=1, cancel_days=1)
    canteen.schools.add(school)
    month = (today.replace(day=1) + datetime.timedelta(days=40)).strftime("%Y-%m")
    return {"school": school, "meal": meal, "canteen": canteen, "month": month}


def validated_family(email, name, meal, tickets=2):
    """A validated family whose guardian logs in with `email` and FAMILY_PASSWORD, holding
    `tickets` tickets of type `meal` (bought). Returns (guardian, family)."""
    from portal.models import Family, User
    from portal.services.wallet import credit_tickets, get_wallet

    user = User.objects.create_user(email=email, password=FAMILY_PASSWORD)
    family = Family.objects.create(name=name, status=Family.Status.VALIDATED)
    family.guardians.add(user)
    wallet = get_wallet(family, meal)
    if tickets:
        credit_tickets(wallet, tickets, "Achat", by=None)
    return user, family


def log_in_family(page, live_server, email):
    """The family login form, filled and sent (FAMILY_PASSWORD)."""
    page.goto(f"{live_server.url}/famille/connexion/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(FAMILY_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def log_in_to_admin(page, email, password=None):
    """The admin's login form, filled and sent; the dashboard must open. `password` defaults to
    the demo accounts' one."""
    from playwright.sync_api import expect

    from home.demo import DEMO_PASSWORD

    page.goto("/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password or DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


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
