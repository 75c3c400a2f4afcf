"""Every back-office listing exports its rows: a spreadsheet with one line per listed row."""

import csv
import io

import pytest
from wagtail.admin.viewsets import viewsets
from wagtail.admin.viewsets.model import ModelViewSet

from tests.factories import UserFactory


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
