"""The roll-call on a phone (390×844, touch only): an Animateur marks a booked child present,
another absent, and adds a child present without a booking found by name."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import AttendanceMark, Booking, Child, Closure, School, Service
from portal.services import deadlines
from portal.services.booking import BookingRefused, book_day

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0 Mobile Safari/537.36")
PASSWORD = "preau-demo-2026"


def _today_open_canteen(school):
    """The demo canteen, made to run today whatever the weekday (the live server uses the real
    clock): the roll-call can only be taken on the day itself."""
    today = timezone.localdate()
    if deadlines.public_holiday_name(today):
        pytest.skip("today is a public holiday: no roll-call can be taken")
    canteen = Service.objects.get(name="Cantine")
    Service.objects.filter(pk=canteen.pk).update(
        weekdays="0123456", start=min(canteen.start, today), end=max(canteen.end, today))
    Closure.objects.filter(start__lte=today, end__gte=today).delete()
    canteen.refresh_from_db()
    return canteen, today


def _booked(child, service, day):
    guardian = child.family.guardians.get()
    try:
        book_day(child, service, day, by=guardian, now=timezone.now() - datetime.timedelta(days=14))
    except BookingRefused:
        pass  # the demo booked it already
    assert Booking.objects.filter(child=child, service=service, date=day).exists()


def test_a_roll_call_by_taps_marks_present_absent_and_adds_an_unbooked_child(browser, live_server, demo):
    school = School.objects.get(name="École Jules-Ferry")
    canteen, today = _today_open_canteen(school)
    jules = Child.objects.get(first_name="Jules", last_name="Lefèvre")
    family = jules.family
    zoe = Child.objects.create(family=family, first_name="Zoé", last_name="Lefèvre", school=school,
                               school_class="CE2", birth_date=datetime.date(2018, 3, 1))
    ines = Child.objects.get(first_name="Inès", family=family)
    _booked(jules, canteen, today)
    _booked(zoe, canteen, today)
    Booking.objects.filter(child=ines, service=canteen, date=today).delete()

    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE_UA,
                                  is_mobile=True, has_touch=True, locale="fr-FR", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/famille/connexion/")
        page.fill("input[name=username]", "animateur.demo@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.locator("main button[type=submit]").tap()
        expect(page.locator("main button[type=submit]")).to_have_count(0)
        page.goto(f"/equipe/{today.isoformat()}/{school.pk}/{canteen.pk}/appel/")
        expect(page.locator("h1")).to_contain_text("Appel")

        jules_row = page.locator(f"#enfant-{jules.pk}")
        jules_row.get_by_role("button", name=re.compile("^Présent")).tap()
        expect(page.locator(f"#enfant-{jules.pk} .rc-state")).to_have_text("✓ présent")
        assert AttendanceMark.objects.get(child=jules, roll_call__date=today).present is True

        page.locator(f"#enfant-{zoe.pk}").get_by_role("button", name=re.compile("^Absent")).tap()
        expect(page.locator(f"#enfant-{zoe.pk} .rc-state")).to_have_text("✗ absent")
        assert AttendanceMark.objects.get(child=zoe, roll_call__date=today).present is False
        expect(page.locator(f"#enfant-{jules.pk} .rc-state")).to_have_text("✓ présent")

        page.locator("#rc-q").tap()
        page.keyboard.type("Inès Lef")
        page.locator("#rc-add").locator("..").get_by_role("button", name="Chercher").tap()
        page.get_by_role("button", name="Ajouter présent : Inès Lefèvre").tap()
        expect(page.locator(f"#enfant-{ines.pk} .rc-state")).to_have_text("✓ présent")
        expect(page.locator(f"#enfant-{ines.pk}")).to_contain_text("sans réservation")
        mark = AttendanceMark.objects.get(child=ines, roll_call__date=today)
        assert mark.present and mark.booking is None
        expect(page.locator("#bilan")).to_contain_text("2 présent(s), 1 absent(s), 0 non pointé(s)")

        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
