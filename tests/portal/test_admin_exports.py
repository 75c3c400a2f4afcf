"""Every back-office listing exports its rows: a spreadsheet with one line per listed row."""

import csv
import datetime
import io
import tracemalloc

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.admin.viewsets import viewsets
from wagtail.admin.viewsets.model import ModelViewSet

from tests.factories import UserFactory, make_agent


def portal_listings():
    """The agents' listings (Wagtail's own user listing aside)."""
    return [v for v in viewsets.viewsets
            if isinstance(v, ModelViewSet) and v.model._meta.app_label == "portal"
            and not v.name.startswith("wagtail")]


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_every_back_office_listing_exports_one_line_per_listed_row(client, demo_site):
    from portal.models import Booking

    admin = UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listings = portal_listings()
    assert {v.model._meta.model_name for v in listings} >= {
        "booking", "wallet", "purchase", "family", "child", "closure", "service", "price"}
    for viewset in listings:
        response = client.get(viewset.menu_url, {"export": "csv"})
        assert response.status_code == 200, viewset.name
        header, *rows = csv_rows(response)
        assert header and all(header), f"{viewset.name}: export without columns {header}"
        assert len(rows) == viewset.model.objects.count(), viewset.name
        assert all(any(cell.strip() for cell in row) for row in rows), f"{viewset.name}: empty lines"

    # The bookings listing (the one found empty) offers both formats and says whose day it is.
    booking = Booking.objects.select_related("child__family", "service").first()
    assert Booking.objects.count() > 0
    page = client.get("/admin/reservations/").content.decode()
    assert "export=csv" in page and "export=xlsx" in page
    header, *rows = csv_rows(client.get("/admin/reservations/", {"export": "csv"}))
    assert header[:3] == ["Jour", "Enfant", "Famille"]
    assert [booking.date.isoformat(), str(booking.child), booking.child.family.name] in [r[:3] for r in rows]
    assert len(rows) == Booking.objects.count()


def book_days(count, town):
    """`count` bookings: 50 children booked on consecutive days (bulk, only the export is tested)."""
    from portal.models import Booking, Child, Family

    family = town.setdefault("family", None) or Family.objects.create(name="Famille Export")
    town["family"] = family
    children = list(Child.objects.filter(family=family))
    for n in range(len(children), 50):
        children.append(Child.objects.create(family=family, first_name=f"Enfant{n}", last_name="Export",
                                             birth_date=datetime.date(2018, 1, 1), school=town["school"]))
    first = town.get("booked", 0)
    Booking.objects.bulk_create(
        Booking(child=children[n % 50], family=family, service=town["canteen"],
                date=datetime.date(2026, 9, 1) + datetime.timedelta(days=n // 50))
        for n in range(first, first + count))
    town["booked"] = first + count


@pytest.fixture
def export_town(db):
    from portal.models import School, Service, TicketType

    school = School.objects.create(name="École Jules-Ferry")
    meal = TicketType.objects.create(name="Repas")
    canteen = Service.objects.create(name="Cantine", weekdays="0123456", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3), ticket_type=meal)
    canteen.schools.add(school)
    return {"school": school, "canteen": canteen}


def export_peak(client, fmt):
    """(Python memory peak while the export is produced and read piece by piece, its size)."""
    tracemalloc.start()
    try:
        response = client.get("/admin/reservations/", {"export": fmt, "start": "2026-09-01"})
        size = sum(len(piece) for piece in response.streaming_content)
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_5000_row_export_streams_in_the_memory_of_a_1000_row_one(fmt, client, export_town):
    client.force_login(make_agent())
    book_days(1000, export_town)
    export_peak(client, fmt)  # warm the per-process caches (permissions, translations)
    small_peak, small_size = export_peak(client, fmt)
    book_days(4000, export_town)
    big_peak, big_size = export_peak(client, fmt)
    assert big_size > 4 * small_size  # the rows are really there
    # Flat: 5× the rows need about the same memory. Rows are read EXPORT_CHUNK (500) at a time
    # and sent as they are written, so what is kept at once is a chunk or two, not the export.
    assert big_peak < 1.5 * small_peak, f"{fmt}: {small_peak / 2**20:.1f} MiB for 1,000 rows, " \
                                        f"{big_peak / 2**20:.1f} MiB for 5,000"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exports_first_bytes_leave_before_its_rows_are_read(fmt, client, export_town):
    client.force_login(make_agent())
    book_days(50, export_town)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/reservations/", {"export": fmt})
        first = next(iter(response.streaming_content))
        assert first
        assert not [q for q in queries.captured_queries if "portal_booking" in q["sql"]]
        rest = b"".join(response.streaming_content)
    assert [q for q in queries.captured_queries if "portal_booking" in q["sql"]]
    assert len(first + rest) > 50 * 20


def test_the_xlsx_export_opens_with_the_rows_of_the_csv(client, export_town):
    from openpyxl import load_workbook

    from portal.models import Booking

    client.force_login(make_agent())
    book_days(120, export_town)
    cancelled_at = datetime.datetime(2026, 9, 1, 8, 30, tzinfo=datetime.UTC)
    Booking.objects.filter(pk=Booking.objects.order_by("pk").first().pk).update(
        status=Booking.Status.CANCELLED, cancelled_at=cancelled_at)
    response = client.get("/admin/reservations/", {"export": "xlsx"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="reservations.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    csv_header, *csv_lines = csv_rows(client.get("/admin/reservations/", {"export": "csv"}))
    assert header == csv_header
    assert len(rows) == len(csv_lines) == 120
    first = rows[0]
    assert first[0] == datetime.datetime(2026, 9, 1)  # a date cell, not text
    assert sheet["A2"].number_format == "dd/mm/yyyy"
    assert first[1:5] == ["Enfant0 Export", "Famille Export", "École Jules-Ferry", "Cantine"]
    assert first[5] == "Annulée" and first[6] is False
    assert first[8] == datetime.datetime(2026, 9, 1, 8, 30)  # as Wagtail's writer: UTC, no zone
    assert [r[1] for r in rows] == [line[1] for line in csv_lines]
