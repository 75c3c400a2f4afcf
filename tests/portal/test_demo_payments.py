"""The demo family's past purchases: paid through the demo provider, each with a receipt, loaded once."""

from django.core import mail
from django.core.management import call_command

from portal.models import AuditLog, LedgerEntry, Purchase, Receipt
from portal.services.wallet import find_inconsistencies


def load_demo():
    call_command("load_demo", stdout=open("/dev/null", "w"))


def test_the_demo_family_has_paid_purchases_with_receipts_and_a_second_load_adds_nothing(
        db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        load_demo()
    paid = Purchase.objects.filter(family__guardians__email="famille.demo@example.org", state="paid")
    assert paid.count() == 3
    assert Receipt.objects.filter(purchase__in=paid).count() == 3
    assert set(paid.values_list("method", flat=True)) == {"demo"}
    assert not [m for m in mail.outbox if m.attachments]  # demo data mails no receipt
    # The town's day demo (a closed roll-call) writes its audit entries once; the payments none.
    assert not AuditLog.objects.filter(action__startswith="payment").exists()
    before = (Purchase.objects.count(), Receipt.objects.count(), LedgerEntry.objects.count(),
              AuditLog.objects.count())
    load_demo()
    assert (Purchase.objects.count(), Receipt.objects.count(), LedgerEntry.objects.count(),
            AuditLog.objects.count()) == before
    assert find_inconsistencies() == []
