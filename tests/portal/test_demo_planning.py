import pytest
from django.core.management import call_command
from django.urls import reverse

from portal.models import Booking, Closure, LedgerEntry, Service, User, Wallet

pytestmark = pytest.mark.django_db


def test_the_demo_family_sees_a_living_planning(client, demo_site):
    user = User.objects.get(email="famille.demo@example.org")
    assert user.check_password("preau-demo-2026")
    assert Service.objects.filter(schools__name="École Louise-Michel").count() == 4
    assert Closure.objects.filter(kind="school_holiday").exists()
    assert Booking.objects.filter(child__family__guardians=user, status="active").exists()
    first = Booking.objects.filter(child__family__guardians=user).order_by("date").first()
    client.force_login(user)
    html = client.get(reverse("portal:planning") + f"?mois={first.date:%Y-%m}").content.decode()
    children = list(user.families.get().children.values_list("first_name", flat=True))
    assert len(children) == 2
    assert all(name in html for name in children)
    assert f'name="cancel" value="{first.pk}"' in html
    call_command("check_wallets", stdout=open("/dev/null", "w"))


def test_loading_the_demo_twice_adds_no_planning_data(demo_site):
    counts = [m.objects.count() for m in (Service, Closure, Wallet, LedgerEntry, Booking)]
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert [m.objects.count() for m in (Service, Closure, Wallet, LedgerEntry, Booking)] == counts
