"""A planning page is reused only while everything it shows is unchanged (portal/cache/page_cache.py)."""

import datetime
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.cache import display_cache, page_cache
from portal.models import Booking, Closure
from portal.services.booking import book_day, cancel_booking
from portal.services.deadlines import PARIS
from portal.services.wallet import credit_tickets, debit_tickets, get_wallet
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db
BOOK = 'aria-label="Cantine Disponible — Réserver Cantine le lundi 14 septembre pour Léa"'
CANCEL = 'aria-label="Cantine Réservé annuler — Annuler Cantine le lundi 14 septembre pour Léa"'


@pytest.fixture(autouse=True)
def _shared_cache(settings, monkeypatch):
    settings.PREAU_SHARED_CACHE = True  # as with Redis: one process here, so locmem is shared
    monkeypatch.setattr(page_cache, "_pages", {})
    monkeypatch.setattr(page_cache, "_size", 0)
    # Counters start from the clock, frozen here: every test would meet the last one's entries.
    monkeypatch.setattr(display_cache, "_local", {})
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield


def child_url(child):
    return reverse("portal:planning_child", args=[child.pk]) + "?mois=2026-09"


def family_url():
    return reverse("portal:planning") + "?mois=2026-09"


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_second_view_is_served_from_memory_with_only_the_login_queries(logged_dupont, dupont, canteen,
                                                                        meal):
    give_tickets(dupont["family"], meal, 2)
    first = get(logged_dupont, child_url(dupont["child"]))
    with CaptureQueriesContext(connection) as queries:
        second = get(logged_dupont, child_url(dupont["child"]))
    assert len(queries) == 2, [q["sql"][:80] for q in queries]  # session, user
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", first) == token.sub("", second)
    assert BOOK in second and "Repas : <strong>2</strong>" in second


def test_the_reused_page_carries_a_working_csrf_token(client, dupont, canteen, meal):
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(dupont["user"])
    give_tickets(dupont["family"], meal, 2)
    get(client, child_url(dupont["child"]))
    html = get(client, child_url(dupont["child"]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert "\x00" not in html
    response = client.post(reverse("portal:planning_act"), {
        "csrfmiddlewaretoken": token, "scope": f"child:{dupont['child'].pk}", "mois": "2026-09",
        "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14"})
    assert response.status_code == 302
    assert Booking.objects.filter(child=dupont["child"], date=MONDAY, status="active").exists()


def test_a_booking_and_a_cancellation_show_at_once(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    for url in (child_url(dupont["child"]), family_url()):
        assert BOOK in get(logged_dupont, url)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"])
    for url in (child_url(dupont["child"]), family_url()):
        html = get(logged_dupont, url)
        assert CANCEL in html and "Repas : <strong>1</strong>" in html
    cancel_booking(booking, by=dupont["user"])
    for url in (child_url(dupont["child"]), family_url()):
        html = get(logged_dupont, url)
        assert BOOK in html and "Repas : <strong>2</strong>" in html


def test_tickets_credited_or_debited_by_an_agent_show_at_once(logged_dupont, dupont, canteen, meal, agent):
    wallet = give_tickets(dupont["family"], meal, 1)
    assert "Repas : <strong>1</strong>" in get(logged_dupont, family_url())
    credit_tickets(wallet, 5, "Paiement en mairie", by=agent)
    assert "Repas : <strong>6</strong>" in get(logged_dupont, family_url())
    debit_tickets(get_wallet(dupont["family"], meal), 6, "Correction", by=agent)
    html = get(logged_dupont, family_url())
    assert "Repas : <strong>0</strong>" in html and BOOK not in html and "Pas de ticket" in html


def test_a_closure_shows_at_once(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    get(logged_dupont, family_url())
    Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY)
    html = get(logged_dupont, family_url())
    assert "Grève" in html and BOOK not in html


def test_a_passed_deadline_shows_without_any_change_in_the_data(logged_dupont, dupont, canteen, meal):
    # The canteen closes bookings 2 days before at 10:00: Saturday 12 September, 10:00.
    give_tickets(dupont["family"], meal, 2)
    with time_machine.travel(datetime.datetime(2026, 9, 12, 9, 59, 59, tzinfo=PARIS), tick=False):
        logged_dupont.force_login(dupont["user"])  # days later: a new session
        assert BOOK in get(logged_dupont, child_url(dupont["child"]))
        assert BOOK in get(logged_dupont, child_url(dupont["child"]))
    with time_machine.travel(datetime.datetime(2026, 9, 12, 10, 0, 1, tzinfo=PARIS), tick=False):
        html = get(logged_dupont, child_url(dupont["child"]))
    assert BOOK not in html
    assert f'<td class="st-deadline" id="c-{dupont["child"].pk}-{canteen.pk}-20260914"' in html


def test_a_passed_cancellation_deadline_locks_the_booked_day(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"])
    with time_machine.travel(datetime.datetime(2026, 9, 12, 9, 59, tzinfo=PARIS), tick=False):
        logged_dupont.force_login(dupont["user"])  # days later: a new session
        assert CANCEL in get(logged_dupont, child_url(dupont["child"]))
    with time_machine.travel(datetime.datetime(2026, 9, 12, 10, 0, 1, tzinfo=PARIS), tick=False):
        html = get(logged_dupont, child_url(dupont["child"]))
    assert CANCEL not in html and "Réservé, non annulable" in html


def test_another_familys_booking_fills_a_capacity_limited_day(logged_dupont, dupont, martin, canteen, meal):
    canteen.capacity = 1
    canteen.save()
    give_tickets(dupont["family"], meal, 2)
    give_tickets(martin["family"], meal, 2)
    assert BOOK in get(logged_dupont, child_url(dupont["child"]))
    book_day(martin["child"], canteen, MONDAY, by=martin["user"])
    html = get(logged_dupont, child_url(dupont["child"]))
    assert BOOK not in html and "Complet" in html


def test_a_guardian_removed_from_the_family_no_longer_sees_its_pages(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    get(logged_dupont, child_url(dupont["child"]))
    get(logged_dupont, family_url())
    dupont["family"].guardians.remove(dupont["user"])
    assert logged_dupont.get(child_url(dupont["child"])).status_code == 404
    assert logged_dupont.get(family_url()).status_code == 404


def test_a_child_moved_to_another_family_leaves_the_old_familys_pages(logged_dupont, dupont, martin, canteen,
                                                                      meal):
    give_tickets(dupont["family"], meal, 2)
    make_family("Durand", "durand@example.org", dupont["child"].school)  # unrelated family
    get(logged_dupont, child_url(dupont["child"]))
    assert "Léa" in get(logged_dupont, family_url())
    child = dupont["child"]
    child.family = martin["family"]
    child.save()
    assert logged_dupont.get(child_url(child)).status_code == 404
    assert "Léa" not in get(logged_dupont, family_url())  # the Duponts have no child left


def test_pages_are_kept_per_user_and_never_shown_to_another_family(client, dupont, martin, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    client.force_login(dupont["user"])
    get(client, child_url(dupont["child"]))
    client.force_login(martin["user"])
    assert client.get(child_url(dupont["child"])).status_code == 404
    assert "Léa" not in get(client, family_url())


def test_a_message_is_shown_once_and_not_kept_in_the_page(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    get(logged_dupont, family_url())
    response = logged_dupont.post(reverse("portal:planning_act"), {
        "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14", "scope": "family", "mois": "2026-09"})
    after = get(logged_dupont, response["Location"])
    assert "Réservé : Cantine, 14/09/2026, Léa" in after
    again = get(logged_dupont, response["Location"])
    assert "Réservé : Cantine, 14/09/2026, Léa" not in again and CANCEL in again


def test_each_language_has_its_own_page(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    assert "Disponible" in get(logged_dupont, family_url())
    logged_dupont.cookies["django_language"] = "en"
    html = get(logged_dupont, family_url())
    assert "Available" in html and "Disponible" not in html


def test_without_a_shared_cache_nothing_is_kept(logged_dupont, dupont, canteen, meal, settings):
    settings.PREAU_SHARED_CACHE = False
    give_tickets(dupont["family"], meal, 2)
    get(logged_dupont, family_url())
    assert page_cache._pages == {}


def test_an_agent_cancellation_without_refund_shows_at_once(logged_dupont, dupont, canteen, meal, agent):
    give_tickets(dupont["family"], meal, 2)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"])
    assert CANCEL in get(logged_dupont, child_url(dupont["child"]))
    cancel_booking(booking, by=agent, refund=False)  # no ledger entry: only the booking changes
    html = get(logged_dupont, child_url(dupont["child"]))
    assert BOOK in html and "Repas : <strong>1</strong>" in html


def test_memory_is_bounded_and_the_oldest_page_goes_first(logged_dupont, dupont, canteen, meal, monkeypatch):
    give_tickets(dupont["family"], meal, 2)
    get(logged_dupont, family_url())
    one_page = page_cache._size
    monkeypatch.setattr(page_cache, "MAX_BYTES", int(one_page * 2.5))  # room for two pages
    for month in ("2026-10", "2026-11"):
        get(logged_dupont, reverse("portal:planning") + f"?mois={month}")
    assert [path for _user, path, _lang, _variant in page_cache._pages] == [
        "/famille/planning/?mois=2026-10", "/famille/planning/?mois=2026-11"]
    assert page_cache._size == sum(len(e.content) for e in page_cache._pages.values()) <= 2.5 * one_page
    get(logged_dupont, reverse("portal:planning") + "?mois=2026-11")  # served again: nothing added
    assert len(page_cache._pages) == 2


def test_on_redis_a_change_made_by_another_process_is_seen_at_once(logged_dupont, dupont, canteen, meal,
                                                                   settings):
    """Production shape: the counters live in Redis. Another worker's booking reaches this
    process only through them (here: its INCR sent on a connection of its own)."""
    import redis

    from tests.website.test_redis_cache import REDIS_URL, _redis_up, clear, redis_settings

    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}")
    settings.PREAU_SHARED_CACHE = None  # decided by the backend, as in production
    settings.CACHES = redis_settings("page-cache")
    clear(cache)
    give_tickets(dupont["family"], meal, 2)
    assert BOOK in get(logged_dupont, child_url(dupont["child"]))
    with CaptureQueriesContext(connection) as queries:
        get(logged_dupont, child_url(dupont["child"]))
    assert len(queries) == 2  # reused

    # Another worker books the day: the row is in the database (bulk_create: no signal in this
    # process), and until its bump reaches Redis this process still shows the page it has.
    Booking.objects.bulk_create([Booking(child=dupont["child"], family=dupont["child"].family,
                                         service=canteen, date=MONDAY,
                                         created_by=dupont["user"])])
    assert BOOK in get(logged_dupont, child_url(dupont["child"]))
    key = cache.make_and_validate_key(display_cache._version_key(display_cache.child_namespace(
        dupont["child"].pk)))
    redis.Redis.from_url(REDIS_URL).incr(key)  # the other worker's bump, on its own connection
    assert CANCEL in get(logged_dupont, child_url(dupont["child"]))
    clear(cache)


def test_a_suspension_committed_while_the_page_is_computed_never_shows_a_bookable_day(
        logged_dupont, dupont, canteen, meal):
    from unittest import mock

    from portal.models import Family
    from portal.views import planning as planning_views

    give_tickets(dupont["family"], meal, 2)
    real = planning_views.page_versions

    def agent_suspends_then_counters_are_read(user, children):
        # The agent's save commits after the page looked its children up, before it read the
        # counters: what the page shows must be read after them.
        family = Family.objects.get(pk=dupont["family"].pk)
        family.status = Family.Status.SUSPENDED
        family.save()
        return real(user, children)

    with mock.patch.object(planning_views, "page_versions",
                           side_effect=agent_suspends_then_counters_are_read):
        get(logged_dupont, child_url(dupont["child"]))
    kept = get(logged_dupont, child_url(dupont["child"]))
    assert BOOK not in kept and "pas encore validé" in kept
    page_cache._pages.clear()  # MAX_AGE passed: computed again
    again = get(logged_dupont, child_url(dupont["child"]))
    assert BOOK not in again and "pas encore validé" in again


def test_bump_caches_makes_every_page_computed_again_after_a_sql_fix(logged_dupont, dupont, canteen, meal):
    from django.core.management import call_command

    from portal.models import Service

    give_tickets(dupont["family"], meal, 2)
    assert BOOK in get(logged_dupont, child_url(dupont["child"]))
    # A data migration closes Mondays without any signal: the kept page cannot know.
    Service.objects.filter(pk=canteen.pk).update(weekdays="134")
    assert BOOK in get(logged_dupont, child_url(dupont["child"]))
    call_command("bump_caches")
    assert BOOK not in get(logged_dupont, child_url(dupont["child"]))
