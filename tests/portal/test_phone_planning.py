"""The planning on a phone (the week view, one child at a time) and the dashboard as the
parent's home. The same rules and answers as the month grid; constant queries."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from portal.models import Booking
from portal.services.booking import book_day
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/131.0 Mobile Safari/537.36"}
DESKTOP = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/131.0 Safari/537.36"}


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):  # Monday 7 September 2026, 08:00
        yield


@pytest.fixture
def two_children(school, canteen, evening, meal, care):
    user, family, kids = make_family("Durand", "durand@example.org", school, children=("Léa", "Tom"))
    give_tickets(family, meal, 10)
    give_tickets(family, care, 10)
    return {"user": user, "family": family, "lea": kids[0], "tom": kids[1]}


def test_a_week_shows_its_five_school_days_with_every_service(logged_dupont, dupont, canteen, evening, meal):
    give_tickets(dupont["family"], meal, 5)
    url = reverse("portal:planning_child", args=[dupont["child"].pk]) + "?semaine=2026-09-16"
    html = logged_dupont.get(url).content.decode()
    assert "Semaine du 14 au 18 septembre 2026" in html
    assert 'aria-label="Cantine Disponible — Réserver Cantine le lundi 14 septembre pour Léa"' in html
    assert "Réserver Cantine le vendredi 18 septembre" in html
    assert "15 septembre" in html and "Garderie du soir" in html
    assert "21 septembre" not in html and "11 septembre" not in html
    assert 'name="semaine" value="2026-09-14"' in html
    assert "?semaine=2026-09-07" in html and "?semaine=2026-09-21" in html  # previous, next week
    assert "?mois=2026-09" in html  # the month stays one tap away


def test_a_phone_gets_this_week_and_one_child_at_a_time_with_a_switcher(client, two_children):
    client.force_login(two_children["user"])
    html = client.get(reverse("portal:planning"), headers=PHONE).content.decode()
    assert "Semaine du 7 au 11 septembre 2026" in html
    assert "Planning de Léa" in html and "pour Léa" in html and "pour Tom" not in html
    tom = reverse("portal:planning_child", args=[two_children["tom"].pk])
    assert f'href="{tom}?semaine=2026-09-07"' in html
    # Thursday 10 can still be booked (deadline Tuesday 10:00), Monday 7 no longer.
    assert 'aria-label="Cantine Disponible — Réserver Cantine le jeudi 10 septembre pour Léa"' in html
    assert "Réserver Cantine le lundi 7 septembre" not in html
    # Chromium's client hint says the same without the user agent.
    html = client.get(reverse("portal:planning"), headers={"Sec-CH-UA-Mobile": "?1"}).content.decode()
    assert "Semaine du 7 au 11 septembre 2026" in html


def test_a_phone_gets_next_week_when_nothing_is_left_to_book_in_this_one(client, two_children):
    client.force_login(two_children["user"])
    with time_machine.travel(datetime.datetime(2026, 9, 10, 12, 0, tzinfo=NOW.tzinfo), tick=False):
        html = client.get(reverse("portal:planning"), headers=PHONE).content.decode()
    assert "Semaine du 14 au 18 septembre 2026" in html


def test_a_computer_gets_the_month_of_every_child(client, two_children):
    client.force_login(two_children["user"])
    html = client.get(reverse("portal:planning"), headers=DESKTOP).content.decode()
    assert "Septembre 2026" in html and "pour Léa" in html and "pour Tom" in html
    assert "Semaine du" not in html


def test_booking_from_the_week_without_javascript_comes_back_to_that_week(logged_dupont, dupont, canteen,
                                                                          meal):
    give_tickets(dupont["family"], meal, 2)
    response = logged_dupont.post(reverse("portal:planning_act"), {
        "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14", "scope": f"child:{dupont['child'].pk}",
        "semaine": "2026-09-14"})
    assert response.status_code == 302 and "?semaine=2026-09-14#c-" in response["Location"]
    assert Booking.objects.filter(child=dupont["child"], status="active").count() == 1


def test_a_click_in_the_week_that_changes_other_days_answers_with_the_week(logged_dupont, dupont, canteen,
                                                                           meal):
    give_tickets(dupont["family"], meal, 1)  # the last ticket: every open day changes
    response = logged_dupont.post(reverse("portal:planning_act"), {
        "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14", "scope": f"child:{dupont['child'].pk}",
        "semaine": "2026-09-14"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Semaine du 14 au 18 septembre 2026" in html and "Pas de ticket" in html
    assert "21 septembre" not in html


def test_the_week_runs_the_same_queries_as_the_month_for_one_or_two_children(
        client, dupont, two_children, canteen, meal, django_assert_num_queries):
    give_tickets(dupont["family"], meal, 3)
    book_day(two_children["lea"], canteen, datetime.date(2026, 9, 14), by=two_children["user"])
    for user in (dupont["user"], two_children["user"]):
        client.force_login(user)
        url = reverse("portal:planning")
        client.get(url, headers=PHONE)  # stamps the idle timer, fills the cache
        # session, user, the family's children, then bookings, capacities and wallets at once
        with django_assert_num_queries(4):
            assert "Semaine du" in client.get(url, headers=PHONE).content.decode()
        child_url = reverse("portal:planning_child", args=[user.families.get().children.first().pk])
        client.get(child_url + "?semaine=2026-09-14")
        with django_assert_num_queries(4):
            client.get(child_url + "?semaine=2026-09-14")


def test_another_familys_child_week_is_not_found(client, dupont, martin, canteen):
    client.force_login(martin["user"])
    url = reverse("portal:planning_child", args=[dupont["child"].pk]) + "?semaine=2026-09-14"
    assert client.get(url, headers=PHONE).status_code == 404


def test_the_dashboard_says_what_needs_doing_as_links(logged_dupont, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    html = logged_dupont.get(reverse("portal:dashboard")).content.decode()
    todo = html[html.index('id="a-faire"'):html.index("</section>", html.index('id="a-faire"'))]
    week = reverse("portal:planning_child", args=[dupont["child"].pk]) + "?semaine=2026-09-07"
    assert f'href="{week}"' in todo
    assert ("Rien n’est réservé pour Léa la semaine du 7 septembre : réservez avant le mardi 8 septembre "
            "à 10:00.") in todo
    assert f'href="{reverse("portal:payment_buy")}?type={meal.pk}"' in todo
    assert "Plus que 2 tickets Repas" in todo
    # Booked that week, tickets bought: neither reminder is left for it.
    book_day(dupont["child"], canteen, datetime.date(2026, 9, 10), by=dupont["user"])
    give_tickets(dupont["family"], meal, 5)
    html = logged_dupont.get(reverse("portal:dashboard")).content.decode()
    assert "la semaine du 7 septembre" not in html and "Plus que" not in html
    glance = html[html.index('id="semaine"'):]
    assert "La semaine du 7 septembre" in glance and "Cantine" in glance


def test_the_dashboard_links_the_missing_file_pieces_and_the_regulation(client, family_a, parent_a,
                                                                        requirements):
    client.force_login(parent_a)
    html = client.get(reverse("portal:dashboard")).content.decode()
    todo = html[html.index('id="a-faire"'):]
    upload = reverse("portal:file_upload", args=[requirements["insurance"].pk])
    assert f'href="{upload}"' in todo and "Envoyer : Attestation d’assurance." in todo
    assert f'href="{reverse("portal:regulation")}"' in todo


def test_a_parent_never_sees_another_familys_week_on_the_dashboard(client, dupont, martin, canteen, meal):
    book_day_for = martin["child"]
    give_tickets(martin["family"], meal, 2)
    book_day(book_day_for, canteen, datetime.date(2026, 9, 10), by=martin["user"])
    client.force_login(dupont["user"])
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "Tom" not in html and "Léa" in html
