from django.core.management import call_command

from home.demo import DEMO_PASSWORD
from portal.models import AuditLog, Child, Family, FileItem, FileRequirement, RegulationAcceptance, User
from portal.services import dossier

COUNTED = [Family, Child, FileItem, FileRequirement, RegulationAcceptance, User, AuditLog]


def test_the_demo_family_is_validated_with_two_children_in_two_schools(demo_site):
    family = Family.objects.get(guardians__email="famille.demo@example.org")
    assert family.status == Family.Status.VALIDATED
    assert sorted(c.school.name for c in family.children.all()) == [
        "École Jules-Ferry", "École Louise-Michel"]
    assert dossier.bookings_open(family)


def test_the_second_demo_family_has_an_incomplete_file(demo_site):
    family = Family.objects.get(guardians__email="famille2.demo@example.org")
    assert family.status == Family.Status.INCOMPLETE
    assert not dossier.bookings_open(family)


def test_demo_accounts_log_in_with_the_demo_password(demo_site, client):
    for email in ("famille.demo@example.org", "agent.demo@example.org"):
        assert User.objects.get(email=email).check_password(DEMO_PASSWORD)
    agent = User.objects.get(email="agent.demo@example.org")
    assert agent.is_staff and agent.has_perm("portal.review_family")
    assert not User.objects.get(email="famille.demo@example.org").is_staff


def test_loading_the_demo_twice_creates_nothing_new(demo_site):
    before = {model: model.objects.count() for model in COUNTED}
    call_command("load_demo", stdout=open("/dev/null", "w"))
    # The demo's roll-call and sick-day report are made through the services, which log them
    # once; a second load logs nothing more.
    assert {model: model.objects.count() for model in COUNTED} == before
