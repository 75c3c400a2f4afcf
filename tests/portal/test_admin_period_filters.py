"""Agents narrow bookings and payments to a day, a week, a school or a service; with no period
chosen they see the current school year, never every year at once."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from portal.models import Booking, Child, Family, Purchase, School, Service, TicketType
from tests.factories import SchoolYearFactory, make_agent

TODAY = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def town(db):
    SchoolYearFactory()  # 2026-09-01 … 2027-07-03
    SchoolYearFactory(name="2025-2026", start=datetime.date(2025, 9, 1), end=datetime.date(2026, 7, 3))
    meal = TicketType.objects.create(name="Repas")
    north, south = School.objects.create(name="École Nord"), School.objects.create(name="École Sud")
    canteen = Service.objects.create(name="Cantine", weekdays="0134", ticket_type=meal,
                                     start=datetime.date(2025, 9, 1), end=datetime.date(2027, 7, 3))
    evening = Service.objects.create(name="Garderie du soir", weekdays="0134", ticket_type=meal,
                                     start=datetime.date(2025, 9, 1), end=datetime.date(2027, 7, 3))
    families, children = {}, {}
    for name, school in (("Nord", north), ("Sud", south)):
        families[name] = Family.objects.create(name=f"Famille {name}")
        children[name] = Child.objects.create(family=families[name], first_name=name, last_name=name,
                                              birth_date=datetime.date(2018, 1, 1), school=school)
    for child, service, day in (
            (children["Nord"], canteen, datetime.date(2026, 3, 2)),    # last school year
            (children["Nord"], canteen, datetime.date(2026, 11, 30)),  # Monday of this week
            (children["Nord"], evening, datetime.date(2026, 12, 3)),   # Thursday of this week
            (children["Sud"], canteen, datetime.date(2026, 12, 3)),
            (children["Sud"], canteen, datetime.date(2026, 12, 7))):   # next week
        Booking.objects.create(child=child, service=service, date=day)
    for family, when in ((families["Nord"], datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)),
                         (families["Nord"], datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.UTC)),
                         (families["Sud"], datetime.datetime(2026, 12, 1, 23, 30, tzinfo=datetime.UTC))):
        purchase = Purchase.objects.create(family=family, ticket_type=meal, quantity=1, unit_cents=300,
                                           amount_cents=300, method=Purchase.Method.CASH)
        Purchase.objects.filter(pk=purchase.pk).update(created_at=when)
    return {"north": north, "south": south, "canteen": canteen, "evening": evening}


@pytest.fixture
def agent_client(client, town):
    client.force_login(make_agent())
    with time_machine.travel(TODAY, tick=False):
        yield client


def listed(client, url_name, **params):
    response = client.get(reverse(url_name), params)
    assert response.status_code == 200
    return sorted(str(obj) for obj in response.context["object_list"])


def test_bookings_default_to_the_current_school_year(agent_client):
    rows = listed(agent_client, "reservations:index")
    assert len(rows) == 4 and not any("02/03/2026" in row for row in rows)


def test_bookings_of_a_day_a_week_a_school_or_a_service(agent_client, town):
    assert listed(agent_client, "reservations:index", day="2026-12-03") == [
        "Nord Nord — Garderie du soir — 03/12/2026", "Sud Sud — Cantine — 03/12/2026"]
    # Any day of the week gives Monday to Sunday.
    assert len(listed(agent_client, "reservations:index", week="2026-12-02")) == 3
    assert listed(agent_client, "reservations:index", week="2026-12-02", school=town["south"].pk) == [
        "Sud Sud — Cantine — 03/12/2026"]
    assert listed(agent_client, "reservations:index", service=town["evening"].pk) == [
        "Nord Nord — Garderie du soir — 03/12/2026"]
    # An explicit period reaches back to another school year.
    assert len(listed(agent_client, "reservations:index", start="2026-01-01", end="2026-06-30")) == 1


def test_a_bad_date_is_a_form_error_not_a_500(agent_client):
    response = agent_client.get(reverse("reservations:index"), {"day": "2026-13-45"})
    assert response.status_code == 200


def test_payments_default_to_the_school_year_and_filter_by_day_week_and_school(agent_client, town):
    assert listed(agent_client, "paiements:index") == [
        "1 × Repas — Famille Nord", "1 × Repas — Famille Sud"]
    # 23:30 UTC on 1 December is already 2 December in Paris.
    assert listed(agent_client, "paiements:index", day="2026-12-02") == ["1 × Repas — Famille Sud"]
    assert len(listed(agent_client, "paiements:index", week="2026-12-04")) == 2
    assert listed(agent_client, "paiements:index", school=town["north"].pk) == ["1 × Repas — Famille Nord"]


def test_past_the_count_cap_the_listing_asks_for_a_narrower_period(agent_client, monkeypatch):
    from portal.admin import listing

    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    page = agent_client.get(reverse("reservations:index")).content.decode()
    assert "Plus de 10 000 lignes" in page
    narrower = agent_client.get(reverse("reservations:index"), {"week": "2026-12-02"}).content.decode()
    assert "Plus de 10 000 lignes" not in narrower and "Sud Sud" in narrower
