"""rawsql.reused_row: an ORM query compiled once, run again with other values, answers what the
ORM itself answers for those values (on SQLite, dates travel as text: converted both ways)."""

import datetime

import pytest
from django.db.models import Q

from portal import rawsql
from portal.models import Closure, School

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 10, 20)


def first_closure(school_id, day):
    return (Closure.objects.filter(start__lte=day, end__gte=day)
            .filter(Q(school_id=school_id) | Q(school__isnull=True))
            .order_by("start", "pk").values("reason", "end")[:1])


def test_a_reused_query_answers_for_each_call_s_own_values_like_the_orm():
    jules, pagnol = (School.objects.create(name=name) for name in ("Jules-Ferry", "Pagnol"))
    Closure.objects.create(reason="Grève", start=DAY, end=DAY, school=jules)
    Closure.objects.create(reason="Toussaint", start=DAY + datetime.timedelta(days=1),
                           end=DAY + datetime.timedelta(days=10))
    key = ("test first closure",)
    calls = [(jules.pk, DAY), (pagnol.pk, DAY), (pagnol.pk, DAY + datetime.timedelta(days=3)),
             (jules.pk, DAY - datetime.timedelta(days=1))]
    for school_id, day in calls:
        expected = next(iter(first_closure(school_id, day)), None)
        assert rawsql.reused_row(key, first_closure, school_id=school_id, day=day) == expected
    assert rawsql.reused_row(key, first_closure, school_id=jules.pk, day=DAY) == {
        "reason": "Grève", "end": DAY}


def test_a_value_the_query_does_not_take_as_a_parameter_is_refused():
    with pytest.raises(ValueError, match="school_id"):
        rawsql.reused_row(("test ignored value",), lambda school_id, day: first_closure(None, day),
                          school_id=1, day=DAY)
    with pytest.raises(TypeError):
        rawsql.reused_row(("test text value",), lambda name: School.objects.filter(name=name).values("pk"),
                          name="Jules-Ferry")


def test_the_planning_s_sql_picks_the_family_that_family_of_guardian_picks_for_a_guardian_of_two():
    """rawsql.children_of_guardian repeats, in SQL, services.access.family_of_guardian's rule
    (the first family by primary key): both must name the same family. The guardian joins the
    later family first, so an order by joining would answer the other one."""
    from portal.services.access import family_of_guardian
    from tests.factories import make_family

    first = make_family("premier@example.org", "Famille Premier", children=2)
    second = make_family("second@example.org", "Famille Second", children=1)
    parent = second.guardians.get()
    first.guardians.add(parent)  # after `second`: the later row of the guardians' table
    assert first.pk < second.pk
    assert family_of_guardian(parent) == first
    children = rawsql.children_of_guardian(parent.pk)
    assert {c.household_id for c in children} == {first.pk}
    assert sorted(c.pk for c in children) == sorted(first.children.values_list("pk", flat=True))
