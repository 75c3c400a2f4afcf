"""The demo family's past purchases: paid through the demo provider, each with a receipt, loaded once."""

from django.core.management import call_command

from portal.models import AuditLog, LedgerEntry, Purchase, Receipt
from portal.services.wallet import find_inconsistencies


def test_the_demo_family_has_paid_purchases_with_receipts_and_a_second_load_adds_nothing(demo_site):
    paid = Purchase.objects.filter(family__guardians__email="famille.demo@example.org", state="paid")
    assert paid.count() == 3
    assert Receipt.objects.filter(purchase__in=paid).count() == 3
    assert set(paid.values_list("method", flat=True)) == {"demo"}
    before = (Purchase.objects.count(), Receipt.objects.count(), LedgerEntry.objects.count())
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert (Purchase.objects.count(), Receipt.objects.count(), LedgerEntry.objects.count()) == before
    assert not AuditLog.objects.exists()
    assert find_inconsistencies() == []
