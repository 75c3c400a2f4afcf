import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from portal.models import Booking, Service
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db
CELL = "c-{child}-{service}-20260914"


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def planning_url():
    return reverse("portal:planning") + "?mois=2026-09"


def test_the_family_planning_shows_each_state_in_text(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    html = logged_dupont.get(planning_url()).content.decode()
    assert "Septembre 2026" in html
    assert "Délai dépassé" in html  # days before the deadline
    assert "Disponible" in html
    assert 'aria-label="Cantine Disponible — Réserver Cantine le lundi 14 septembre pour Léa"' in html
    assert "Repas : <strong>2</strong>" in html
    assert "<script>" not in html and "style=" not in html


def test_booking_without_javascript_redirects_back_with_a_message(logged_dupont, dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 2)
    response = logged_dupont.post(reverse("portal:planning_act"), {
        "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14", "scope": "family", "mois": "2026-09"})
    assert response.status_code == 302
    assert response["Location"].endswith("?mois=2026-09#" + CELL.format(child=dupont["child"].pk,
                                                                        service=canteen.pk))
    assert Booking.objects.filter(child=dupont["child"], date=MONDAY, status="active").count() == 1
    wallet.refresh_from_db()
    assert wallet.balance == 1
    html = logged_dupont.get(response["Location"]).content.decode()
    assert "Réservé : Cantine, 14/09/2026, Léa" in html
    assert 'aria-label="Cantine Réservé annuler — Annuler Cantine le lundi 14 septembre pour Léa"' in html


def test_booking_with_htmx_returns_the_region_with_status_and_new_balance(logged_dupont, dupont, canteen,
                                                                          meal):
    give_tickets(dupont["family"], meal, 2)
    response = logged_dupont.post(
        reverse("portal:planning_act"),
        {"book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14", "scope": f"child:{dupont['child'].pk}",
         "mois": "2026-09"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="planning-status" data-hx-swap-oob="innerHTML"' in html
    assert "alert-success" in html and "Un ticket a été utilisé" in html
    assert "Repas : <strong>1</strong>" in html
    assert f'name="cancel" value="{Booking.objects.get().pk}"' in html
    assert "<html" not in html


def htmx_click(client, data):
    return client.post(reverse("portal:planning_act"), {"scope": "family", "mois": "2026-09", **data},
                       headers={"HX-Request": "true"})


def test_a_click_that_changes_one_cell_answers_with_that_cell_its_balance_and_the_status(
        logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    child = dupont["child"]
    response = htmx_click(logged_dupont, {"book": f"{child.pk}:{canteen.pk}:2026-09-14"})
    html = response.content.decode()
    assert response["HX-Reswap"] == "none"  # nothing but the out-of-band parts below is swapped
    booking = Booking.objects.get()
    cell = CELL.format(child=child.pk, service=canteen.pk)
    assert (f'<td class="st-booked" id="t-{cell}" data-hx-swap-oob="outerHTML"><button type="submit" '
            f'name="cancel" value="{booking.pk}" id="{cell}"') in html
    assert f'id="balance-{meal.pk}" data-hx-swap-oob="outerHTML">Repas : <strong>2</strong>' in html
    assert "Réservé : Cantine, 14/09/2026, Léa" in html
    assert html.count("<td") == 1 and 'id="planning-region"' not in html
    response = htmx_click(logged_dupont, {"cancel": str(booking.pk)})
    html = response.content.decode()
    assert response["HX-Reswap"] == "none"
    assert f'<td class="st-available" id="t-{cell}" data-hx-swap-oob="outerHTML">' in html
    assert 'aria-label="Cantine Disponible — Réserver Cantine le lundi 14 septembre pour Léa"' in html
    assert "Repas : <strong>3</strong>" in html


def test_a_click_that_changes_other_cells_answers_with_the_whole_region(logged_dupont, dupont, canteen,
                                                                        meal):
    give_tickets(dupont["family"], meal, 1)
    child = dupont["child"]
    # The last ticket: every other open day turns to "no ticket".
    response = htmx_click(logged_dupont, {"book": f"{child.pk}:{canteen.pk}:2026-09-14"})
    html = response.content.decode()
    assert "HX-Reswap" not in response and 'id="planning-region"' in html
    assert 'class="st-no_ticket"' in html and "Repas : <strong>0</strong>" in html
    # The first ticket back: those days open again.
    response = htmx_click(logged_dupont, {"cancel": str(Booking.objects.get().pk)})
    html = response.content.decode()
    assert "HX-Reswap" not in response and 'id="planning-region"' in html
    assert 'class="st-no_ticket"' not in html and "Repas : <strong>1</strong>" in html


def test_a_click_on_a_capacity_limited_service_answers_with_the_whole_region(logged_dupont, school, meal,
                                                                             canteen):
    from tests.portal.fixtures_planning import make_family as family_of

    canteen.capacity = 1
    canteen.save()
    user, family, (lea, tom) = family_of("Petit", "petit@example.org", school, children=("Léa", "Tom"))
    give_tickets(family, meal, 5)
    logged_dupont.force_login(user)
    response = htmx_click(logged_dupont, {"book": f"{lea.pk}:{canteen.pk}:2026-09-14"})
    html = response.content.decode()
    assert "HX-Reswap" not in response  # Tom's Monday is now full: the region is sent again
    # Full: Tom's day now offers its waiting list.
    assert f'<td class="st-full" id="t-{CELL.format(child=tom.pk, service=canteen.pk)}"' in html


def test_a_refused_booking_says_why_and_changes_nothing(logged_dupont, dupont, canteen, meal):
    response = logged_dupont.post(
        reverse("portal:planning_act"),
        {"book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14", "scope": "family", "mois": "2026-09"},
        headers={"HX-Request": "true"})
    assert "alert-error" in response.content.decode()
    assert "Plus de ticket disponible" in response.content.decode()
    assert not Booking.objects.exists()


def test_cancelling_from_the_planning_gives_the_ticket_back(logged_dupont, dupont, canteen, meal):
    from portal.services.booking import book_day

    wallet = give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"])
    response = logged_dupont.post(reverse("portal:planning_act"),
                                  {"cancel": booking.pk, "scope": "family", "mois": "2026-09"},
                                  headers={"HX-Request": "true"})
    assert "Réservation annulée" in response.content.decode()
    wallet.refresh_from_db()
    assert wallet.balance == 1


def test_another_familys_child_and_booking_are_not_found(client, dupont, martin, canteen, meal):
    from portal.services.booking import book_day

    give_tickets(dupont["family"], meal, 1)
    give_tickets(martin["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"])
    client.force_login(martin["user"])
    assert client.get(reverse("portal:planning_child", args=[dupont["child"].pk])).status_code == 404
    url = reverse("portal:planning_act")
    assert client.post(url, {"cancel": booking.pk}).status_code == 404
    assert client.post(url, {"book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-15"}).status_code == 404
    assert Booking.objects.get(pk=booking.pk).is_active
    assert Booking.objects.count() == 1
    html = client.get(reverse("portal:planning") + "?mois=2026-09").content.decode()
    assert "Léa" not in html and "Tom" in html


@pytest.mark.parametrize("data", [
    {"book": "n'importe:quoi"}, {"book": ""}, {"cancel": "abc"}, {},
    {"book": "1:2:2026-02-31"}, {"mois": "9999-99", "book": "x"},
    {"book": f"{2**70}:1:2026-09-15"}, {"scope": f"child:{2**70}", "book": "x"},
])
def test_bad_input_never_gives_a_500(logged_dupont, dupont, canteen, data):
    response = logged_dupont.post(reverse("portal:planning_act"), data)
    assert response.status_code in (302, 404)
    assert not Booking.objects.exists()


def test_the_raw_sql_child_lookup_gives_the_same_objects_as_the_orm(dupont, martin):
    from portal.models import Child
    from portal.rawsql import child_of_guardian

    child = child_of_guardian(dupont["user"].pk, dupont["child"].pk)
    expected = Child.objects.select_related("family", "school").get(pk=dupont["child"].pk)
    for obj, ref in ((child, expected), (child.family, expected.family), (child.school, expected.school)):
        fields = [f.attname for f in type(ref)._meta.concrete_fields]
        assert [getattr(obj, f) for f in fields] == [getattr(ref, f) for f in fields]
        assert [type(getattr(obj, f)) for f in fields] == [type(getattr(ref, f)) for f in fields]
    assert child_of_guardian(martin["user"].pk, dupont["child"].pk) is None
    assert child_of_guardian(dupont["user"].pk, 2**70) is None


def test_the_planning_legend_follows_the_language(logged_dupont, dupont, canteen):
    from django.conf import settings

    assert "Complet : plus de place ce jour-là ;" in logged_dupont.get(planning_url()).content.decode()
    logged_dupont.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = logged_dupont.get(planning_url()).content.decode()
    assert "<summary>Key</summary>" in html and "Complet : plus de place" not in html


def test_bad_month_falls_back_to_the_current_month(logged_dupont, dupont, canteen):
    html = logged_dupont.get(reverse("portal:planning") + "?mois=abc").content.decode()
    assert "Septembre 2026" in html


def test_planning_needs_login(client):
    response = client.get(reverse("portal:planning"))
    assert response.status_code == 302 and "/famille/connexion/" in response["Location"]


def test_an_htmx_click_without_a_session_sends_the_browser_to_the_login_page(client):
    response = client.post(reverse("portal:planning_act"), {"book": "1:1:2026-09-14"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200  # htmx navigates on HX-Redirect; it would swap a 302's target
    assert response["HX-Redirect"].startswith("/famille/connexion/?next=/famille/planning/clic/")
    assert response.content == b""


def test_an_htmx_click_after_30_minutes_idle_sends_the_browser_to_the_login_page(logged_dupont, dupont,
                                                                                 canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    logged_dupont.get(planning_url())  # stamps the idle timer
    with time_machine.travel(NOW + datetime.timedelta(minutes=31), tick=False):
        response = htmx_click(logged_dupont, {"book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14"})
    assert response["HX-Redirect"].startswith("/famille/connexion/")
    assert not Booking.objects.exists()


def test_a_click_without_javascript_still_gets_a_plain_redirect(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    response = logged_dupont.post(reverse("portal:planning_act"), {
        "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14", "scope": "family", "mois": "2026-09"})
    assert response.status_code == 302 and "HX-Redirect" not in response


def add_services(school, ticket_type, n):
    for i in range(n):
        service = Service.objects.create(name=f"Service {i}", weekdays="01234",
                                         start=datetime.date(2026, 9, 1), end=datetime.date(2027, 7, 3),
                                         ticket_type=ticket_type, capacity=30)
        service.schools.add(school)


def test_planning_pages_run_a_constant_number_of_queries(client, school, other_school, meal, care,
                                                         django_assert_num_queries):
    from portal.services.booking import book_day

    small_user, small_family, small_kids = make_family("Petit", "petit@example.org", school)
    add_services(school, meal, 1)
    big_user, big_family, big_kids = make_family("Grand", "grand@example.org", school,
                                                 children=("A", "B", "C"))
    big_kids[2].school = other_school
    big_kids[2].save()
    add_services(school, care, 3)
    add_services(other_school, meal, 4)
    give_tickets(big_family, meal, 5)
    give_tickets(big_family, care, 5)
    give_tickets(small_family, meal, 5)
    for service in Service.objects.filter(schools=school)[:2]:
        book_day(big_kids[0], service, MONDAY, by=big_user)
    book_day(small_kids[0], Service.objects.filter(schools=school).first(), MONDAY, by=small_user)

    small_url = reverse("portal:planning") + "?mois=2026-09"
    big_url = reverse("portal:planning") + "?mois=2026-10"
    child_url = reverse("portal:planning_child", args=[big_kids[0].pk]) + "?mois=2026-09"
    # session, user, the family's children (family and school joined), then bookings, capacity
    # counts and wallets in one UNION ALL query. The planning configuration (services per school,
    # closures), whether the family's file opens bookings and base.html's town
    # settings come from the cache, and families get no Wagtail user bar (two permission queries).
    expected = 4
    client.force_login(small_user)
    client.get(small_url)  # stamps the idle timer, fills the cache
    with django_assert_num_queries(expected):
        small = client.get(small_url)
    client.force_login(big_user)
    client.get(big_url)
    with django_assert_num_queries(expected):
        big = client.get(big_url)
    assert small.content.decode().count('class="cell-button"') < big.content.decode().count(
        'class="cell-button"')
    client.get(child_url)
    with django_assert_num_queries(expected):  # the child, with its family and school, in one query
        client.get(child_url)
    # With an empty cache, the same fixed extra: services per school (links, services and ticket
    # types joined), closures; whether the file is complete (the family's row with the rule
    # bookings_open_q read alongside, after the counters; then, for the reasons shown, its
    # children and the school year: none is set up here); site and town settings.
    cache.clear()
    with django_assert_num_queries(expected + 7):
        client.get(big_url)
    cache.clear()
    client.force_login(small_user)
    client.get(small_url)
    cache.clear()
    with django_assert_num_queries(expected + 7):
        client.get(small_url)


def test_a_planning_page_reads_its_cache_versions_in_one_round_trip(logged_dupont, dupont, canteen, meal):
    from unittest import mock

    from portal.cache import display_cache

    give_tickets(dupont["family"], meal, 2)
    url = reverse("portal:planning_child", args=[dupont["child"].pk]) + "?mois=2026-09"
    logged_dupont.get(url)
    with mock.patch.object(display_cache.cache, "get_many", wraps=display_cache.cache.get_many) as get_many:
        html = logged_dupont.get(url).content.decode()
    assert get_many.call_count == 1
    assert "Réserver Cantine le lundi 14 septembre pour Léa" in html
    # Outside a page the counters are read again, so a bump is seen at once.
    before = display_cache.versions(display_cache.PLANNING)
    display_cache.bump(display_cache.PLANNING)
    assert display_cache.versions(display_cache.PLANNING) != before


def test_the_cached_planning_shows_a_closure_an_agent_adds_at_once(logged_dupont, dupont, canteen, meal):
    from portal.models import Closure

    give_tickets(dupont["family"], meal, 2)
    assert "Sortie scolaire" not in logged_dupont.get(planning_url()).content.decode()
    Closure.objects.create(reason="Sortie scolaire", start=MONDAY, end=MONDAY)
    html = logged_dupont.get(planning_url()).content.decode()
    assert "Sortie scolaire" in html
    assert 'aria-label="Cantine Disponible — Réserver Cantine le lundi 14 septembre pour Léa"' not in html


def test_with_a_shared_cache_the_in_memory_copy_follows_a_new_closure(logged_dupont, dupont, canteen, meal,
                                                                       monkeypatch, settings):
    from portal.cache import display_cache
    from portal.models import Closure

    settings.PREAU_SHARED_CACHE = True  # as with Redis
    monkeypatch.setattr(display_cache, "_local", {})
    give_tickets(dupont["family"], meal, 2)
    logged_dupont.get(planning_url())
    assert any(key.startswith("preau:planning:") for key in display_cache._local)
    Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY)
    assert "Grève" in logged_dupont.get(planning_url()).content.decode()


def test_the_cached_planning_follows_a_service_change_and_a_new_school(logged_dupont, dupont, canteen,
                                                                       meal, other_school):
    give_tickets(dupont["family"], meal, 2)
    assert "Cantine" in logged_dupont.get(planning_url()).content.decode()
    canteen.name = "Restaurant scolaire"
    canteen.save()
    html = logged_dupont.get(planning_url()).content.decode()
    assert "Restaurant scolaire" in html and ">Cantine<" not in html
    canteen.schools.set([other_school])  # m2m only: no save() of the service
    assert "Aucune prestation n’est proposée à cette école." in logged_dupont.get(
        planning_url()).content.decode()


def test_the_cached_planning_follows_the_familys_file(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    booking_label = 'aria-label="Cantine Disponible — Réserver Cantine le lundi 14 septembre pour Léa"'
    assert booking_label in logged_dupont.get(planning_url()).content.decode()
    dupont["family"].status = "suspended"
    dupont["family"].save()
    html = logged_dupont.get(planning_url()).content.decode()
    assert booking_label not in html and "Dossier non validé" in html


def test_a_version_bumped_in_the_cache_is_seen_by_every_process(settings):
    """The counter lives in the shared cache, not in process memory: another process (here, a
    second cache connection) reads the bumped version."""
    from django.core.cache import caches

    from portal.cache import display_cache

    before = display_cache.versions(display_cache.PLANNING)[0]
    display_cache.bump(display_cache.PLANNING)
    assert display_cache.versions(display_cache.PLANNING)[0] > before
    other = caches.create_connection("default")
    assert other.get("preau:v:planning") == display_cache.versions(display_cache.PLANNING)[0]


def test_wallet_page_shows_balances_and_history_of_the_family_only(client, dupont, martin, canteen, meal,
                                                                   agent):
    from portal.services.booking import book_day

    give_tickets(dupont["family"], meal, 3, agent=agent)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"])
    give_tickets(martin["family"], meal, 7)
    client.force_login(dupont["user"])
    html = client.get(reverse("portal:wallet")).content.decode()
    assert "2 tickets" in html
    assert "Cantine, lundi 14 septembre 2026, Léa" in html
    assert "Tickets de test" in html
    assert "7 tickets" not in html
    assert client.get(reverse("portal:wallet") + "?page=zzz").status_code == 200


def test_weekly_pattern_previews_then_books(client, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    client.force_login(dupont["user"])
    url = reverse("portal:planning_pattern")
    data = {"children": [dupont["child"].pk], "services": [canteen.pk], "weekdays": [0, 1, 3],
            "start": "2026-09-14", "end": "2026-09-27"}
    html = client.post(url, data).content.decode()
    assert "Avant de confirmer" in html and "Il manque 3 ticket(s)" in html
    assert not Booking.objects.exists()
    html = client.post(url, {**data, "confirm": "1"}).content.decode()
    assert "3 jours réservés" in html and "3 jours non réservés" in html
    assert Booking.objects.filter(status="active").count() == 3


def test_weekly_pattern_rejects_bad_periods_and_other_familys_children(client, dupont, martin, canteen):
    client.force_login(dupont["user"])
    url = reverse("portal:planning_pattern")
    response = client.post(url, {"children": [martin["child"].pk], "services": [canteen.pk],
                                 "weekdays": [0], "start": "2026-09-20", "end": "2026-09-10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "La date de fin doit suivre la date de début." in html
    assert not Booking.objects.exists()


def test_the_dashboard_links_the_planning_and_shows_the_balance(logged_dupont, dupont, meal, care):
    give_tickets(dupont["family"], meal, 3)
    html = logged_dupont.get(reverse("portal:dashboard")).content.decode()
    card = html[html.index('id="carte-porte-monnaie"'):]
    card = card[:card.index("</a>")]
    assert f'href="{reverse("portal:wallet")}"' in html and "Repas : <strong>3</strong>" in card
    assert f'class="card" href="{reverse("portal:planning")}"' in html


def test_the_header_links_a_familys_planning_and_wallet_not_an_agents(logged_dupont, client, agent):
    html = logged_dupont.get(planning_url()).content.decode()
    header = html[:html.index("</header>")]
    assert f'<a href="{reverse("portal:planning")}" aria-current="page">Planning</a>' in header
    assert f'<a href="{reverse("portal:wallet")}">Porte-monnaie</a>' in header
    client.force_login(agent)
    header = client.get(reverse("portal:dashboard")).content.decode().split("</header>")[0]
    assert reverse("portal:wallet") not in header


def test_names_in_the_grid_are_escaped_once(logged_dupont, dupont, canteen, meal):
    canteen.name = "Cantine & goûter <bio>"
    canteen.save()
    give_tickets(dupont["family"], meal, 2)
    html = logged_dupont.get(planning_url()).content.decode()
    assert ('aria-label="Cantine &amp; goûter &lt;bio&gt; Disponible — '
            'Réserver Cantine &amp; goûter &lt;bio&gt; le lundi 14 septembre pour Léa"') in html
    assert "&amp;amp;" not in html and "<bio>" not in html


def test_the_planning_in_english_says_booked_not_the_menus_restricted(logged_dupont, dupont, canteen,
                                                                      meal):
    from portal.services.booking import book_day

    give_tickets(dupont["family"], meal, 2)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"])
    html = logged_dupont.get(planning_url(), headers={"accept-language": "en"}).content.decode()
    assert 'lang="en"' in html
    assert "Booked" in html and "Available" in html
    assert "Restricted" not in html and "Réservé" not in html
