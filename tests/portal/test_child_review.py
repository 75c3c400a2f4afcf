"""A child a validated family adds is not bookable until an agent has checked its sheet (health
data, PAI); the family stays validated for its other children (issue 18 §6)."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from portal.models import Booking, Child
from portal.services import dossier
from portal.services.booking import BookingRefused, book_day
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db
MONTH = "?mois=2026-09"


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def add_child_through_the_form(client, school, first_name="Noé"):
    response = client.post(reverse("portal:child_add"), {
        "first_name": first_name, "last_name": "Dupont", "birth_date": "2019-03-02",
        "school": school.pk, "school_class": "GS", "allergies": "Arachide", "has_pai": "on",
        "personnes-TOTAL_FORMS": "0", "personnes-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Child.objects.get(first_name=first_name)


def test_a_child_added_after_validation_waits_for_the_town_hall_and_the_planning_says_why(
        logged_dupont, dupont, school, canteen, meal):
    give_tickets(dupont["family"], meal, 4)
    noe = add_child_through_the_form(logged_dupont, school)
    with pytest.raises(BookingRefused) as refused:
        book_day(noe, canteen, MONDAY, by=dupont["user"], now=NOW)
    assert refused.value.code == "child_review"
    html = logged_dupont.get(reverse("portal:planning_child", args=[noe.pk]) + MONTH).content.decode()
    assert "Fiche de l’enfant en cours de vérification par la mairie" in html
    assert "Réserver Cantine le lundi 14 septembre pour Noé" not in html
    # The family stays validated: its first child books as before.
    dupont["family"].refresh_from_db()
    assert dupont["family"].status == "validated"
    assert book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW).pk
    assert not Booking.objects.filter(child=noe).exists()


def test_once_an_agent_checked_the_sheet_the_child_is_bookable_at_once(
        logged_dupont, dupont, school, canteen, meal, agent):
    agent_client = Client()
    agent_client.force_login(agent)
    give_tickets(dupont["family"], meal, 4)
    noe = add_child_through_the_form(logged_dupont, school)
    child_url = reverse("portal:planning_child", args=[noe.pk]) + MONTH
    logged_dupont.get(child_url)  # the page is cached from here on
    review = reverse("portal_families:review", args=[dupont["family"].pk])
    page = agent_client.get(review).content.decode()
    assert "fiche à vérifier" in page
    agent_client.post(review, {"action": "review_child", "child": noe.pk})
    noe.refresh_from_db()
    assert noe.reviewed_at is not None
    assert "Réserver Cantine le lundi 14 septembre pour Noé" in logged_dupont.get(child_url).content.decode()
    assert book_day(noe, canteen, MONDAY, by=dupont["user"], now=NOW).pk


def test_children_added_before_validation_are_reviewed_with_the_family(school, canteen, meal, agent):
    user, family, kids = make_family("Roux", "roux@example.org", school, status="submitted")
    child = Child(family=family, first_name="Tom", last_name="Roux",
                  birth_date=datetime.date(2019, 1, 1), school=school)
    dossier.save_child(child, by=user)
    dossier.validate_family(family, by=agent)
    give_tickets(family, meal, 2)
    assert book_day(child, canteen, MONDAY, by=user, now=NOW).pk


def test_a_child_an_agent_adds_needs_no_second_review(dupont, school, canteen, meal, agent):
    child = Child(family=dupont["family"], first_name="Ana", last_name="Dupont",
                  birth_date=datetime.date(2019, 1, 1), school=school)
    dossier.save_child(child, by=agent, by_agent=True)
    give_tickets(dupont["family"], meal, 2)
    assert book_day(child, canteen, MONDAY, by=dupont["user"], now=NOW).pk
