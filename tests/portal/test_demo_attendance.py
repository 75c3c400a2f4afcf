from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from home.demo import DEMO_PASSWORD
from portal.models import AbsenceReport, AttendanceMark, Booking, LedgerEntry, RollCall, User
from portal.services import attendance
from portal.services.wallet import find_inconsistencies

COUNTED = [AbsenceReport, AttendanceMark, Booking, LedgerEntry, RollCall, User]


def test_the_demo_animateur_sees_the_lists_of_one_school(demo_site, client):
    staff = User.objects.get(email="animateur.demo@example.org")
    assert staff.check_password(DEMO_PASSWORD)
    assert [s.name for s in attendance.staff_schools(staff)] == ["École Jules-Ferry"]
    client.force_login(staff)
    page = client.get(reverse("staff:home")).content.decode()
    assert "École Jules-Ferry" in page and "École Louise-Michel" not in page


def test_the_demo_has_bookings_a_pai_a_pending_report_and_a_closed_roll_call_with_a_penalty(demo_site):
    today = timezone.localdate()
    booked = Booking.objects.filter(status="active", date__gte=today, child__family__name="Famille Lefèvre")
    assert {b.child.school.name for b in booked} == {"École Jules-Ferry", "École Louise-Michel"}
    assert booked.filter(child__has_pai=True).exists()
    assert AbsenceReport.objects.filter(state="pending").count() == 1
    closed = RollCall.objects.get(closed_at__isnull=False)
    assert AttendanceMark.objects.get(roll_call=closed).penalty == 2
    assert LedgerEntry.objects.filter(kind="penalty").exists()
    assert find_inconsistencies() == []


def test_loading_the_demo_twice_adds_no_day_data(demo_site):
    before = {model: model.objects.count() for model in COUNTED}
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert {model: model.objects.count() for model in COUNTED} == before
