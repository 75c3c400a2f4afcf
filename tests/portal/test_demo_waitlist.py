import pytest
from django.core.management import call_command
from django.urls import reverse

from portal.models import Booking, User, WaitlistEntry

pytestmark = pytest.mark.django_db


def test_the_demo_shows_a_full_wednesday_workshop_with_leo_on_its_waiting_list(client, demo_site):
    entry = WaitlistEntry.objects.select_related("service", "child").get()
    assert entry.service.name == "Atelier cuisine du mercredi" and entry.child.first_name == "Léo"
    assert Booking.objects.filter(service=entry.service, date=entry.date, status="active").count() == 2
    client.force_login(User.objects.get(email="famille.demo@example.org"))
    html = client.get(reverse("portal:planning_child", args=[entry.child.pk])
                      + f"?semaine={entry.date.isoformat()}").content.decode()
    assert f'name="leave_waitlist" value="{entry.pk}"' in html and "n° 1" in html
    call_command("check_wallets", stdout=open("/dev/null", "w"))


def test_loading_the_demo_twice_adds_no_waiting_list_entry(demo_site):
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert WaitlistEntry.objects.count() == 1
