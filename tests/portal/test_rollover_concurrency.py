"""Two agents apply the school-year rollover at the same moment (a double click, two town-hall
desks): the first does it, the second waits for it and then finds nothing left to do. Classes
move by one year, not two; holidays, pieces to renew and the audit entry exist once."""

import pytest
from django.db import connection

from portal.models import AuditLog, Child, Closure, FileItem, SchoolYear, SentNotification
from portal.services import rollover
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.test_concurrency import run_concurrently
from tests.portal.test_rollover import NEW_YEAR, _frozen_now, state_of_everything, town  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)"),
]


@pytest.fixture(autouse=True)
def _root_collection(transactional_db):
    """Wagtail's root collection (documents need one), gone if an earlier transactional test's
    flush emptied the tables in this worker."""
    from wagtail.models import Collection

    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")


def apply_now(agent):
    plan = rollover.apply(*NEW_YEAR, by=agent)
    return "empty" if plan.is_empty else "applied"


def test_two_agents_applying_at_once_roll_the_year_over_once(town, agent):  # noqa: F811 (the fixture)
    plan = rollover.preview(*NEW_YEAR)

    results = run_concurrently(apply_now, [(agent,)] * 4)

    assert sorted(results) == ["applied", "empty", "empty", "empty"]
    assert SchoolYear.objects.filter(name="2027-2028").count() == 1
    assert Closure.objects.filter(start__gte=plan.start).count() == len(plan.closures)
    year = SchoolYear.objects.get(name="2027-2028")
    assert FileItem.objects.filter(requirement__school_year=year, state=FileItem.State.RENEW).count() == 1
    # Léa went from CP to CE1 once (not on to CE2); Hugo leaves.
    assert Child.objects.get(pk=town["lea"].pk).school_class == "CE1"
    assert Child.objects.get(pk=town["hugo"].pk).leaves_on == year.start
    assert AuditLog.objects.filter(action=rollover.ACTION).count() == 1
    # Each household (Duponts, Martins) was asked once to renew its file.
    assert SentNotification.objects.filter(key__startswith="renewal:").count() == 2
    # And a fifth run afterwards changes nothing either.
    before = state_of_everything()
    assert apply_now(agent) == "empty"
    assert state_of_everything() == before
