import pytest
from django.db import IntegrityError, transaction

from portal.models import LedgerEntry, Wallet
from portal.services.wallet import WalletError, credit_tickets, debit_tickets, get_wallet
from tests.portal.fixtures_planning import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_credit_and_debit_append_entries_and_keep_the_balance_equal_to_their_sum(dupont, meal, agent):
    wallet = get_wallet(dupont["family"], meal)
    credit_tickets(wallet, 10, "Achat en mairie", by=agent)
    debit_tickets(wallet, 3, "Erreur de saisie", by=agent)
    wallet.refresh_from_db()
    assert wallet.balance == 7
    assert sum(e.quantity for e in wallet.entries.all()) == 7
    last = wallet.entries.first()
    assert (last.kind, last.quantity, last.reason) == ("adjustment", -3, "Erreur de saisie")
    assert last.agent == agent


def test_a_debit_beyond_the_balance_is_refused_and_changes_nothing(dupont, meal, agent):
    wallet = get_wallet(dupont["family"], meal)
    credit_tickets(wallet, 2, "Achat", by=agent)
    with pytest.raises(WalletError):
        debit_tickets(wallet, 3, "Trop", by=agent)
    wallet.refresh_from_db()
    assert wallet.balance == 2 and wallet.entries.count() == 1


@pytest.mark.parametrize("quantity", [0, -1, 2.5, True])
def test_quantities_must_be_positive_integers(dupont, meal, agent, quantity):
    wallet = get_wallet(dupont["family"], meal)
    with pytest.raises(WalletError):
        credit_tickets(wallet, quantity, "Motif", by=agent)
    assert not wallet.entries.exists()


def test_an_agent_adjustment_needs_a_reason(dupont, meal, agent):
    wallet = get_wallet(dupont["family"], meal)
    with pytest.raises(WalletError):
        credit_tickets(wallet, 1, "  ", by=agent)
    with pytest.raises(WalletError):
        debit_tickets(wallet, 1, "", by=agent)


def test_ledger_entries_can_be_neither_edited_nor_deleted(dupont, meal, agent):
    wallet = get_wallet(dupont["family"], meal)
    entry = credit_tickets(wallet, 1, "Achat", by=agent)
    entry.quantity = 100
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(quantity=100)
    with pytest.raises(TypeError):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get(pk=entry.pk).quantity == 1


def test_the_database_refuses_a_negative_balance(dupont, meal):
    wallet = get_wallet(dupont["family"], meal)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=-1)


def test_the_database_refuses_a_zero_ledger_entry(dupont, meal):
    wallet = get_wallet(dupont["family"], meal)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(wallet=wallet, kind="adjustment", quantity=0)


def test_one_wallet_per_family_and_ticket_type(dupont, meal):
    assert get_wallet(dupont["family"], meal) == get_wallet(dupont["family"], meal)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.create(family=dupont["family"], ticket_type=meal)


def test_a_debit_from_a_stale_read_of_the_wallet_is_refused_by_the_database(dupont, meal, agent):
    # A path that forgot the lock holds a wallet read before another debit committed: the balance
    # is moved in the database (balance - 1), so the CHECK refuses it instead of the debit
    # overwriting the other one.
    from portal.services.wallet import apply_entry

    wallet = get_wallet(dupont["family"], meal)
    credit_tickets(wallet, 1, "Achat", by=agent)
    stale = Wallet.objects.get(pk=wallet.pk)
    debit_tickets(wallet, 1, "Pénalité", by=agent)
    with pytest.raises(IntegrityError), transaction.atomic():
        apply_entry(stale, -1, LedgerEntry.Kind.BOOKING, reason="Cantine")
    wallet.refresh_from_db()
    assert wallet.balance == 0
    assert sum(e.quantity for e in wallet.entries.all()) == 0
