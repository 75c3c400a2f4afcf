"""Pages agents and families open every day must not run more queries as data grows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_family


def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_family_listing_runs_the_same_queries_for_3_or_12_families(client, agent):
    client.force_login(agent)
    for n in range(3):
        make_family(f"p{n}@example.org", f"Famille {n}")
    url = reverse("portal_families:index")
    count_queries(client, url)  # warm caches (site settings, permissions)
    few = count_queries(client, url)
    for n in range(3, 12):
        make_family(f"p{n}@example.org", f"Famille {n}", children=2)
    assert count_queries(client, url) == few


def test_the_children_listing_runs_the_same_queries_for_3_or_12_children(client, agent):
    client.force_login(agent)
    make_family("a@example.org", "Famille A", children=3)
    url = reverse("portal_children:index")
    count_queries(client, url)
    few = count_queries(client, url)
    make_family("b@example.org", "Famille B", children=9)
    assert count_queries(client, url) == few


def test_the_dossier_page_runs_a_fixed_number_of_queries(client, family_a, parent_a,
                                                         requirements, django_assert_num_queries):
    from tests.factories import FileRequirementFactory

    client.force_login(parent_a)
    url = reverse("portal:dossier")
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        client.get(url)
    baseline = len(context.captured_queries)
    for n in range(5):
        FileRequirementFactory(school_year=requirements["insurance"].school_year, name=f"P{n}")
    with django_assert_num_queries(baseline):
        client.get(url)


def test_the_audit_log_listing_runs_the_same_queries_for_few_or_many_entries(client, agent,
                                                                            family_a, family_b):
    from portal.services.audit import record_action

    client.force_login(agent)
    record_action(agent, "family.validate", family_a)
    url = reverse("portal_audit:index")
    count_queries(client, url)
    few = count_queries(client, url)
    for family in (family_a, family_b) * 5:
        record_action(agent, "family.edit", family, target=family)
    assert count_queries(client, url) == few



def test_the_family_dashboard_runs_the_same_queries_for_1_or_4_children_and_wallets(client, requirements):
    from portal.models import TicketType
    from portal.services.wallet import credit_tickets, get_wallet
    from tests.factories import ChildFactory

    family = make_family("parent@example.org", "Famille Dashboard", children=1)
    client.force_login(family.guardians.get())
    url = reverse("portal:dashboard")
    credit_tickets(get_wallet(family, TicketType.objects.create(name="Repas")), 2, "Achat", by=None)
    count_queries(client, url)  # warm caches (site settings)
    few = count_queries(client, url)
    for _ in range(3):
        ChildFactory(family=family)
    for name in ("Garderie", "Mercredi", "Études"):
        credit_tickets(get_wallet(family, TicketType.objects.create(name=name)), 1, "Achat", by=None)
    html = client.get(url).content.decode()
    assert "Mercredi" in html and "Études" in html  # the new wallets are shown
    assert count_queries(client, url) == few
