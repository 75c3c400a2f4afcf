"""Personas of the town's day: an Animateur of Jules-Ferry, an agent of the Agents group, the
canteen and the evening garderie of both schools, children booked on MONDAY.

Imported with `from tests.portal.fixtures_attendance import *` (it brings the planning ones).
"""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group

from portal.models import Child, StaffAssignment, User
from portal.services.booking import book_day
from portal.services.deadlines import PARIS
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

# The morning of MONDAY, when the staff opens the day's lists.
MONDAY_MORNING = datetime.datetime(2026, 9, 14, 7, 30, tzinfo=PARIS)


@pytest.fixture
def on_monday():
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield


@pytest.fixture
def meals(canteen, evening, other_school):
    """Canteen and evening garderie, both schools; the canteen counts for the caterer and the
    garderie's list shows who may pick the children up."""
    canteen.is_meal = True
    canteen.save()
    canteen.schools.add(other_school)
    evening.shows_pickup = True
    evening.save()
    return {"canteen": canteen, "evening": evening}


@pytest.fixture
def animateur(school):
    user = User.objects.create_user(email="animateur@example.org", password="x" * 12, first_name="Anna")
    # get_or_create: a transaction=True test starts from a flushed database, without the group.
    user.groups.add(Group.objects.get_or_create(name="Animateurs")[0])
    StaffAssignment.objects.create(user=user, school=school)
    return user


@pytest.fixture
def town_agent(db):
    """An agent as the data migrations set them up (not a superuser)."""
    user = User.objects.create_user(email="agent.mairie@example.org", password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    return user


def book(child, service, day=MONDAY, by=None):
    give_tickets(child.family, service.ticket_type, 1)
    return book_day(child, service, day, by=by or child.family.guardians.get(), now=NOW)


def add_children(school, n, name="Nombreux", **child_fields):
    """One validated family with n children at school."""
    _user, family, kids = make_family(name, f"{name.lower()}@example.org", school,
                                      children=[f"Enfant{i}" for i in range(n)])
    if child_fields:
        Child.objects.filter(pk__in=[k.pk for k in kids]).update(**child_fields)
        for k in kids:
            k.refresh_from_db()
    return kids
