"""Agents find a family as they are asked at the counter: a guardian's or a child's name with or
without accents, in any case, with a typo, a phone number as dictated, an e-mail address."""

import datetime

import pytest
from django.urls import reverse

from portal.models import Booking, Child, Family, School, Service, TicketType, User
from portal.services.family_search import search_families
from tests.factories import make_agent


def family(name, guardian, email, phone, child):
    school = School.objects.get_or_create(name="École Jules-Ferry")[0]
    first, last = guardian.split()
    user = User.objects.create_user(email=email, password="x" * 12, first_name=first, last_name=last)
    result = Family.objects.create(name=name, phone=phone)
    result.guardians.add(user)
    child_first, child_last = child.split()
    Child.objects.create(family=result, first_name=child_first, last_name=child_last,
                         birth_date=datetime.date(2018, 1, 1), school=school)
    return result


@pytest.fixture
def town(db):
    return {
        "lefevre": family("Famille Lefèvre", "Hélène Lefèvre", "h.lefevre@example.org",
                          "06 12 34 56 78", "Zoé Lefèvre"),
        "martin": family("Famille Martin", "Jean Martin", "jean.martin@example.org",
                         "+33 7 98 76 54 32", "Léo Martin"),
        "dupont": family("Foyer Dupont-Nguyen", "Paul Nguyen", "pn@example.org", "",
                         "Inès Dupont"),
    }


def found(query):
    return sorted(f.name for f in search_families(Family.objects.all(), query))


@pytest.mark.parametrize("query", ["lefevre", "LEFÈVRE", "Lefèvre", "  lefevre  "])
def test_a_name_is_found_whatever_its_accents_and_case(town, query):
    assert found(query) == ["Famille Lefèvre"]


@pytest.mark.parametrize("query, family", [
    ("hélène", "Famille Lefèvre"), ("HELENE LEFEVRE", "Famille Lefèvre"),  # a guardian
    ("zoe", "Famille Lefèvre"), ("Ines Dupont", "Foyer Dupont-Nguyen"),  # a child
    ("nguyen", "Foyer Dupont-Nguyen"), ("jean martin", "Famille Martin"),
])
def test_a_guardians_or_a_childs_name_finds_the_family(town, query, family):
    assert found(query) == [family]


@pytest.mark.parametrize("query, family", [
    ("Dupond", "Foyer Dupont-Nguyen"), ("martn", "Famille Martin"), ("Lefevte", "Famille Lefèvre"),
])
def test_a_name_with_a_typo_is_still_found(town, query, family):
    assert found(query) == [family]


@pytest.mark.parametrize("query, family", [
    ("06 12 34 56 78", "Famille Lefèvre"), ("0612345678", "Famille Lefèvre"),
    ("06.12.34.56.78", "Famille Lefèvre"), ("56 78", "Famille Lefèvre"),
    ("07 98 76 54 32", "Famille Martin"), ("+33 6 12 34 56 78", "Famille Lefèvre"),
])
def test_a_phone_number_is_found_however_it_is_dictated_or_stored(town, query, family):
    assert found(query) == [family]


def test_a_guardians_own_phone_finds_the_family(town):
    User.objects.filter(email="pn@example.org").update(phone="06 99 88 77 66")
    assert found("0699887766") == ["Foyer Dupont-Nguyen"]


def test_an_e_mail_address_finds_the_family(town):
    assert found("jean.martin@example.org") == ["Famille Martin"]
    assert found("JEAN.MARTIN@") == ["Famille Martin"]


def test_nothing_close_finds_nothing_and_an_empty_query_finds_everyone(town):
    assert found("Bernard") == []
    assert found("0145") == []
    assert len(found("")) == 3


def test_the_family_listing_and_the_town_hall_payment_use_the_same_box(client, town):
    client.force_login(make_agent())
    listing = client.get(reverse("portal_families:index"), {"q": "zoé lefevre"}).content.decode()
    assert "Famille Lefèvre" in listing and "Famille Martin" not in listing
    payment = client.get(reverse("paiements:add"), {"q": "07 98 76 54 32"}).content.decode()
    assert "Famille Martin" in payment and "Famille Lefèvre" not in payment


@pytest.mark.parametrize("query, child", [
    ("zoe lefevre", "Zoé Lefèvre"), ("LEO", "Léo Martin"), ("Dupond", "Inès Dupont"),  # typo
    ("nguyen", "Inès Dupont"),  # the family's name
])
def test_the_bookings_listing_finds_a_childs_bookings_by_the_same_names(client, town, query, child):
    meal = TicketType.objects.create(name="Repas")
    canteen = Service.objects.create(name="Cantine", weekdays="0134", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3), ticket_type=meal)
    for each in Child.objects.all():
        Booking.objects.create(child=each, service=canteen, date=datetime.date(2026, 9, 14))
    client.force_login(make_agent())
    page = client.get(reverse("reservations:index"), {"q": query})
    shown = [str(b.child) for b in page.context["page_obj"].object_list]
    assert shown == [child]


def test_the_bookings_listing_finds_the_second_households_bookings_by_its_name(client, town):
    """Inès's father's household books her days too: its name finds them, as her mother's does."""
    meal = TicketType.objects.create(name="Repas")
    canteen = Service.objects.create(name="Cantine", weekdays="0134", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3), ticket_type=meal)
    father = Family.objects.create(name="Foyer Garnier")
    ines = Child.objects.get(first_name="Inès")
    ines.other_family = father
    ines.save()
    fathers = Booking.objects.create(child=ines, family=father, service=canteen,
                                     date=datetime.date(2026, 9, 14))
    mothers = Booking.objects.create(child=ines, service=canteen, date=datetime.date(2026, 9, 15))
    Booking.objects.create(child=Child.objects.get(first_name="Zoé"), service=canteen,
                           date=datetime.date(2026, 9, 14))
    client.force_login(make_agent())
    for query in ("garnier", "Garnié"):  # a typo too
        page = client.get(reverse("reservations:index"), {"q": query})
        assert list(page.context["page_obj"].object_list) == [fathers, mothers], query


def test_a_childs_name_finds_both_of_its_households(town):
    durand = Family.objects.create(name="Foyer Durand")
    Child.objects.filter(first_name="Zoé").update(other_family=durand)
    assert found("zoe lefevre") == ["Famille Lefèvre", "Foyer Durand"]
    # The second household's own name still finds only it.
    assert found("durand") == ["Foyer Durand"]
