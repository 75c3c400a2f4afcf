import pytest
from django.core.management import call_command
from django.urls import reverse

from portal.models import Booking, Child, Family, User

pytestmark = pytest.mark.django_db


def test_the_demo_shows_leo_in_two_households_each_with_its_own_days(client, demo_site):
    leo = Child.objects.get(family__guardians__email="famille.demo@example.org", first_name="Léo")
    father = Family.objects.get(guardians__email="famille.foyer2.demo@example.org")
    assert leo.other_family == father
    his = Booking.objects.filter(family=father, status="active").order_by("date").first()
    assert his is not None and his.child == leo
    month = f"?mois={his.date:%Y-%m}"
    client.force_login(User.objects.get(email="famille.demo@example.org"))
    page = client.get(reverse("portal:planning_child", args=[leo.pk]) + month).content.decode()
    assert "Réservé par l’autre foyer" in page
    client.force_login(User.objects.get(email="famille.foyer2.demo@example.org"))
    page = client.get(reverse("portal:planning_child", args=[leo.pk]) + month).content.decode()
    assert f'name="cancel" value="{his.pk}"' in page
    call_command("check_wallets", stdout=open("/dev/null", "w"))


def test_loading_the_demo_twice_books_nothing_more_for_the_second_household(demo_site):
    fathers = Booking.objects.filter(family__guardians__email="famille.foyer2.demo@example.org")
    before = fathers.count()
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert fathers.count() == before
