"""Personas for the planning tests: two validated families, an agent, services of a school.

Imported with `from tests.portal.fixtures_planning import *` so it stays apart from the
families' fixtures of tests/portal/conftest.py.
"""

import datetime

import pytest

from portal.models import Child, Family, School, Service, TicketType, User
from portal.services.deadlines import PARIS
from portal.services.wallet import credit_tickets, get_wallet

# A Monday in term time, far from holidays: 2026-09-14. "Now" is the Monday before at 08:00.
MONDAY = datetime.date(2026, 9, 14)
NOW = datetime.datetime(2026, 9, 7, 8, 0, tzinfo=PARIS)


def make_family(name, email, school, *, status=Family.Status.VALIDATED, children=("Léa",)):
    user = User.objects.create_user(email=email, password="x" * 12, first_name=name)
    family = Family.objects.create(name=f"Famille {name}", status=status)
    family.guardians.add(user)
    kids = [Child.objects.create(family=family, first_name=first, last_name=name,
                                 birth_date=datetime.date(2018, 1, 1), school=school)
            for first in children]
    return user, family, kids


@pytest.fixture
def school(db):
    return School.objects.create(name="École Jules-Ferry")


@pytest.fixture
def other_school(db):
    return School.objects.create(name="École Louise-Michel")


@pytest.fixture
def meal(db):
    return TicketType.objects.create(name="Repas")


@pytest.fixture
def care(db):
    return TicketType.objects.create(name="Garderie")


@pytest.fixture
def canteen(school, meal):
    service = Service.objects.create(name="Cantine", weekdays="0134", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3), ticket_type=meal, order=1,
                                     booking_days=2, booking_time=datetime.time(10, 0),
                                     cancel_days=2, cancel_time=datetime.time(10, 0))
    service.schools.add(school)
    return service


@pytest.fixture
def evening(school, care):
    service = Service.objects.create(name="Garderie du soir", weekdays="0134",
                                     start=datetime.date(2026, 9, 1), end=datetime.date(2027, 7, 3),
                                     ticket_type=care, order=2, booking_days=1, cancel_days=1)
    service.schools.add(school)
    return service


@pytest.fixture
def agent(db):
    return User.objects.create_user(email="agent@example.org", password="x" * 12, is_staff=True,
                                    is_superuser=True, first_name="Agnès")


@pytest.fixture
def dupont(school):
    """Validated family with one child, Léa, at Jules-Ferry."""
    user, family, kids = make_family("Dupont", "dupont@example.org", school)
    return {"user": user, "family": family, "child": kids[0], "children": kids}


@pytest.fixture
def logged_dupont(client, dupont):
    """The test client, logged in as the Duponts' guardian."""
    client.force_login(dupont["user"])
    return client


@pytest.fixture
def martin(school):
    """A second validated family: must never see or touch the Duponts' data."""
    user, family, kids = make_family("Martin", "martin@example.org", school, children=("Tom",))
    return {"user": user, "family": family, "child": kids[0], "children": kids}


def give_tickets(family, ticket_type, n, agent=None):
    wallet = get_wallet(family, ticket_type)
    if n:
        credit_tickets(wallet, n, "Tickets de test", by=agent)
    return wallet
