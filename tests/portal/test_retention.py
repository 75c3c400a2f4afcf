"""The retention schedule (docs/data-protection.md « How long ») applied by
`manage.py apply_retention`, with time travel: families gone for a whole school year are
anonymised (files deleted, accounts kept, check_wallets still passing on PostgreSQL's
append-only ledger), health data of a child who left is erased, old login attempts, invitations,
e-mails and journal entries go; a second run changes nothing."""

import datetime
import json

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from portal.models import (
    AuditLog,
    AuthorisedPerson,
    Booking,
    Child,
    Family,
    FileItem,
    Invitation,
    LedgerEntry,
    OutgoingEmail,
    Purchase,
    Receipt,
    RegulationAcceptance,
    SchoolYear,
    Service,
    StripeEvent,
    User,
    Wallet,
)
from portal.services import dossier, privacy
from portal.services import wallet as wallet_service
from portal.services.booking import book_day, cancel_booking
from portal.services.deadlines import PARIS
from portal.services.payments.purchases import record_town_hall_payment
from tests.portal.conftest import pdf_upload
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW

pytestmark = pytest.mark.django_db

# 2026-2027 ends on 3 July 2027, 2027-2028 on 1 July 2028.
AFTER_NEXT_YEAR = datetime.datetime(2028, 7, 10, 3, 0, tzinfo=PARIS)
BEFORE_NEXT_YEAR_ENDS = datetime.datetime(2028, 6, 20, 3, 0, tzinfo=PARIS)


@pytest.fixture
def years(db):
    return [SchoolYear.objects.create(name="2026-2027", start=datetime.date(2026, 9, 1),
                                      end=datetime.date(2027, 7, 3)),
            SchoolYear.objects.create(name="2027-2028", start=datetime.date(2027, 9, 1),
                                      end=datetime.date(2028, 7, 1))]


@pytest.fixture
def used_family(years, dupont, canteen, meal, regulation, agent):
    """The Duponts use the canteen in September 2026 only: file, PAI, payment, bookings."""
    family, child, user = dupont["family"], dupont["child"], dupont["user"]
    requirement = years[0].file_requirements.create(name="Attestation d’assurance")
    years[0].file_requirements.create(name="Règlement", kind="regulation")
    with time_machine.travel(NOW, tick=False):
        dossier.update_family(family, {"address": "12 rue des Lilas", "phone": "0611223344"},
                              by=user, fields=["address", "phone"])
        child.allergies, child.birth_date = "Arachide", datetime.date(2018, 5, 4)
        dossier.save_child(child, by=user, pai_upload=pdf_upload("pai.pdf"))
        AuthorisedPerson.objects.create(child=child, name="Mamie Dupont", phone="0600000000")
        item = dossier.submit_file(family, requirement, pdf_upload(), by=user)
        dossier.accept_regulation(family, by=user)
        purchase = record_town_hall_payment(family, meal, 4, "cheque", by=agent, reference="CHQ 123",
                                            unit_cents=350)
        kept = book_day(child, canteen, MONDAY, by=user, now=NOW)
        cancel_booking(book_day(child, canteen, MONDAY + datetime.timedelta(days=1), by=user, now=NOW),
                       by=user, now=NOW)
    child.refresh_from_db()
    return {"family": family, "child": child, "user": user, "item": item, "purchase": purchase,
            "booking": kept, "pai": child.pai_document.name}


def retention(*args):
    from io import StringIO

    out = StringIO()
    call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


def test_a_family_is_kept_until_a_whole_school_year_has_passed_without_it(used_family):
    with time_machine.travel(BEFORE_NEXT_YEAR_ENDS, tick=False):
        out = retention()
    assert "0 famille(s)" in out
    used_family["family"].refresh_from_db()
    assert used_family["family"].anonymised_at is None
    assert used_family["family"].name == "Famille Dupont"


def test_a_family_gone_for_a_school_year_is_anonymised_and_its_accounts_kept(
        used_family, martin, django_capture_on_commit_callbacks):
    family, child, user = used_family["family"], used_family["child"], used_family["user"]
    item_file = used_family["item"].file
    storage = item_file.storage
    assert storage.exists(item_file.name) and storage.exists(used_family["pai"])
    ledger_before = list(LedgerEntry.objects.filter(wallet__family=family).values_list(
        "pk", "kind", "quantity").order_by("pk"))
    # The Martins logged in during 2027-2028: they are not gone.
    User.objects.filter(pk=martin["user"].pk).update(
        last_login=datetime.datetime(2028, 3, 1, tzinfo=PARIS))

    with time_machine.travel(AFTER_NEXT_YEAR, tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        out = retention()

    assert f"Famille n° {family.pk} : est anonymisée." in out
    assert "Dupont" not in out  # the command's output goes to the system's logs
    family.refresh_from_db()
    child.refresh_from_db()
    user.refresh_from_db()
    assert family.name == f"Foyer anonymisé n° {family.pk}"
    assert (family.address, family.phone, family.calendar_token) == ("", "", None)
    assert family.anonymised_at is not None and family.status == Family.Status.SUSPENDED
    assert user.email == f"anonyme-{user.pk}@anonyme.invalid"
    assert (user.first_name, user.last_name, user.is_active, user.has_usable_password()) == (
        "", "", False, False)
    assert (child.first_name, child.last_name, child.birth_date) == (
        "Enfant 1", "anonyme", datetime.date(2018, 1, 1))
    assert (child.allergies, child.has_pai, child.pai_document.name) == ("", False, "")
    assert not AuthorisedPerson.objects.filter(child=child).exists()
    assert not FileItem.objects.filter(family=family).exists()
    assert not RegulationAcceptance.objects.filter(family=family).exists()
    # The uploads are gone from the private storage, not only from the database.
    assert not storage.exists(item_file.name)
    assert not storage.exists(used_family["pai"])
    # The accounts: same ledger rows, same payment, receipt and booking, amounts kept.
    assert list(LedgerEntry.objects.filter(wallet__family=family).values_list(
        "pk", "kind", "quantity").order_by("pk")) == ledger_before
    purchase = Purchase.objects.get(pk=used_family["purchase"].pk)
    assert (purchase.amount_cents, purchase.family_id) == (1400, family.pk)
    assert Receipt.objects.filter(purchase=purchase).exists()
    assert Booking.objects.filter(pk=used_family["booking"].pk, child=child).exists()
    call_command("check_wallets")
    # The Martins are untouched.
    martin["family"].refresh_from_db()
    assert martin["family"].name == "Famille Martin" and martin["family"].anonymised_at is None


LEDGER_COLUMNS = ("pk", "wallet_id", "kind", "quantity", "by_id", "agent_id", "booking_id",
                  "attendance_id", "created_at")
REDACTED = "Motif effacé (foyer anonymisé)"


def test_new_ledger_entries_do_not_name_the_child(used_family):
    reasons = list(LedgerEntry.objects.values_list("reason", flat=True))
    assert "Cantine 14/09/2026" in reasons  # the booking's entry still says what it was for
    assert not [r for r in reasons if "Léa" in r]


def test_anonymising_replaces_the_ledger_reasons_and_keeps_the_accounts(used_family, agent):
    # An entry written before reasons stopped naming anyone: the child and the family's excuse.
    wallet = used_family["family"].wallets.get()
    with time_machine.travel(NOW, tick=False):
        wallet_service.credit_tickets(wallet, 1, "Absence excusée : Léa, Cantine du 14/09/2026 "
                                      "(gastro-entérite)", by=agent)
    accounts = list(LedgerEntry.objects.order_by("pk").values_list(*LEDGER_COLUMNS))
    balances = list(Wallet.objects.order_by("pk").values_list("pk", "balance"))

    with time_machine.travel(AFTER_NEXT_YEAR, tick=False):
        retention()

    reasons = set(LedgerEntry.objects.filter(wallet=wallet).values_list("reason", flat=True))
    assert reasons == {REDACTED}
    assert list(LedgerEntry.objects.order_by("pk").values_list(*LEDGER_COLUMNS)) == accounts
    assert list(Wallet.objects.order_by("pk").values_list("pk", "balance")) == balances
    call_command("check_wallets")
    anonymise = AuditLog.objects.get(action="family.anonymise")
    assert anonymise.after["ledger_reasons"] == LedgerEntry.objects.filter(wallet=wallet).count() == 5


def _sql(statement, *, redaction=False):
    """Run one statement in a savepoint, with the redaction setting on or not."""
    with transaction.atomic(), connection.cursor() as cursor:
        if redaction:
            cursor.execute("SET LOCAL preau.ledger_redaction = 'on'")
        cursor.execute(statement)


@pytest.mark.parametrize("statement, redaction", [
    ("UPDATE portal_ledgerentry SET reason = 'x'", False),  # the setting is needed
    ("UPDATE portal_ledgerentry SET quantity = quantity * 2", True),  # only the reason may change
    ("UPDATE portal_ledgerentry SET reason = 'x', created_at = created_at - interval '1 day'", True),
    ("DELETE FROM portal_ledgerentry", False),
    ("DELETE FROM portal_ledgerentry", True),
])
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the ledger's trigger is PostgreSQL's")
def test_the_trigger_refuses_every_change_but_a_redaction_of_reasons(used_family, statement, redaction):
    before = list(LedgerEntry.objects.order_by("pk").values_list("reason", *LEDGER_COLUMNS))
    with pytest.raises(DatabaseError, match="append-only"):
        _sql(statement, redaction=redaction)
    assert list(LedgerEntry.objects.order_by("pk").values_list("reason", *LEDGER_COLUMNS)) == before


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the ledger's trigger is PostgreSQL's")
def test_the_redaction_setting_ends_with_redact_reasons(used_family):
    wallet = used_family["family"].wallets.get()
    with transaction.atomic():
        assert wallet_service.redact_reasons([wallet.pk], REDACTED) == 4
        with pytest.raises(DatabaseError, match="append-only"):
            _sql("UPDATE portal_ledgerentry SET reason = 'Léa'")
    assert set(LedgerEntry.objects.values_list("reason", flat=True)) == {REDACTED}
    # The append-only manager still refuses.
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(wallet=wallet).update(reason="x")


def test_the_journal_keeps_the_actions_and_no_personal_data(used_family):
    family = used_family["family"]
    actions_before = list(AuditLog.objects.filter(family=family).order_by("pk")
                          .values_list("action", flat=True))
    assert {"family.edit", "child.edit", "payment.town_hall"} <= set(actions_before)
    with time_machine.travel(AFTER_NEXT_YEAR, tick=False):
        retention()
    entries = AuditLog.objects.filter(family=family).order_by("pk")
    assert list(entries.values_list("action", flat=True)) == actions_before + ["family.anonymise"]
    text = json.dumps([[e.target, e.before, e.after] for e in entries], ensure_ascii=False)
    for personal in ("Dupont", "Léa", "Lilas", "0611223344", "dupont@example.org", "Mamie",
                     "Arachide", "CHQ 123"):
        assert personal not in text, personal
    edit = entries.get(action="family.edit")
    assert set(edit.after) == {"address", "phone"}  # which fields changed is kept


def test_a_second_run_changes_nothing(used_family, capsys):
    with time_machine.travel(AFTER_NEXT_YEAR, tick=False):
        retention()
        journal = AuditLog.objects.count()
        family = Family.objects.values().get(pk=used_family["family"].pk)
        out = retention()
    assert "0 famille(s), 0 enfant(s), 0 ligne(s) ancienne(s) traitées." in out
    assert AuditLog.objects.count() == journal
    assert Family.objects.values().get(pk=used_family["family"].pk) == family


def test_the_dry_run_says_what_it_would_do_and_changes_nothing(used_family):
    with time_machine.travel(AFTER_NEXT_YEAR, tick=False):
        out = retention("--dry-run")
    assert "Simulation : rien n’est modifié." in out
    assert f"Famille n° {used_family['family'].pk} : serait anonymisée." in out
    assert "Repas : 3" in out  # its unused tickets are said
    family = Family.objects.get(pk=used_family["family"].pk)
    assert family.name == "Famille Dupont" and family.anonymised_at is None
    assert FileItem.objects.filter(family=family).exists()


def test_health_data_of_a_child_who_left_goes_after_the_next_school_year(
        years, dupont, school, canteen, django_capture_on_commit_callbacks):
    """Léa left in July 2027, her brother Tom still books in 2027-2028: the family stays, Léa's
    allergies and PAI go once 2027-2028 has ended, Tom's stay."""
    family = dupont["family"]
    lea = dupont["child"]
    with time_machine.travel(NOW, tick=False):
        lea.allergies = "Gluten"
        dossier.save_child(lea, by=dupont["user"], pai_upload=pdf_upload("pai.pdf"))
        tom = Child.objects.create(family=family, first_name="Tom", last_name="Dupont",
                                   birth_date=datetime.date(2020, 2, 2), school=school,
                                   allergies="Lait", diet=Child.Diet.NO_PORK)
    lea.refresh_from_db()
    pai = lea.pai_document
    next_year = Service.objects.create(name="Cantine 2027", start=datetime.date(2027, 9, 1),
                                       end=datetime.date(2028, 7, 1), ticket_type=canteen.ticket_type)
    Booking.objects.create(child=lea, service=canteen, date=datetime.date(2027, 6, 28))
    Booking.objects.create(child=tom, service=next_year, date=datetime.date(2027, 10, 4))

    with time_machine.travel(datetime.datetime(2027, 7, 10, 3, tzinfo=PARIS), tick=False):
        retention()
    lea.refresh_from_db()
    assert lea.allergies == "Gluten"  # not at the end of her last year: she may come back

    with time_machine.travel(AFTER_NEXT_YEAR, tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        out = retention()
    assert f"Enfant n° {lea.pk} : données de santé sont effacées." in out
    lea.refresh_from_db()
    tom.refresh_from_db()
    assert (lea.allergies, lea.has_pai, lea.pai_document.name, lea.reviewed_at) == ("", False, "", None)
    assert lea.first_name == "Léa"  # the family is still here
    assert not pai.storage.exists(pai.name)
    assert (tom.allergies, tom.diet) == ("Lait", Child.Diet.NO_PORK)
    family.refresh_from_db()
    assert family.anonymised_at is None
    entry = AuditLog.objects.get(action="child.health_erased")
    assert (entry.target, entry.before, entry.after) == (f"enfant n° {lea.pk}", {}, {})


def test_old_login_attempts_invitations_emails_and_journal_entries_go(years, dupont):
    old, recent = datetime.datetime(2026, 1, 5, tzinfo=PARIS), datetime.datetime(2026, 3, 1, tzinfo=PARIS)
    for moment in (old, recent):
        with time_machine.travel(moment, tick=False):
            AccessAttempt.objects.create(username=f"x{moment:%m}@example.org", ip_address="192.0.2.1",
                                         user_agent="test", http_accept="*/*", path_info="/",
                                         get_data="", post_data="", failures_since_start=1)
            OutgoingEmail.objects.create(template="t", recipients=["a@example.org"], subject="s",
                                         status=OutgoingEmail.Status.SENT)
            StripeEvent.objects.create(event_id=f"evt_{moment:%m}", type="checkout.session.completed",
                                       payload={"customer_details": {"email": "payeur@example.org"}},
                                       processed_at=moment)
    with time_machine.travel(datetime.datetime(2020, 1, 1, tzinfo=PARIS), tick=False):
        AuditLog.objects.create(action="family.edit", target="very old")
    Invitation.objects.create(user=dupont["user"], family=dupont["family"], token_hash="a" * 64,
                              expires_at=datetime.datetime(2026, 1, 1, tzinfo=PARIS))
    Invitation.objects.create(user=dupont["user"], family=dupont["family"], token_hash="b" * 64,
                              expires_at=datetime.datetime(2026, 3, 1, tzinfo=PARIS))

    with time_machine.travel(datetime.datetime(2026, 3, 20, tzinfo=PARIS), tick=False):
        out = retention()
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["x03@example.org"]
    assert list(Invitation.objects.values_list("token_hash", flat=True)) == ["b" * 64]
    assert not AuditLog.objects.filter(target="very old").exists()
    assert "1 tentatives de connexion supprimé(e)s." in out
    with time_machine.travel(datetime.datetime(2027, 2, 1, tzinfo=PARIS), tick=False):
        retention()
    assert OutgoingEmail.objects.count() == 1  # a year after the oldest, before the other
    assert list(StripeEvent.objects.values_list("event_id", flat=True)) == ["evt_03"]


def test_the_cutoff_is_the_end_of_the_school_year_before_the_last_one_that_ended(years):
    assert privacy.school_year_cutoff(1, datetime.date(2028, 7, 10)) == datetime.date(2027, 7, 3)
    # 2027-2028 has not ended yet: one school year recorded, the same day a year before it.
    assert privacy.school_year_cutoff(1, datetime.date(2028, 6, 20)) == datetime.date(2026, 7, 3)
    # Two school years back with only two recorded: a year before the first one's end.
    assert privacy.school_year_cutoff(2, datetime.date(2029, 1, 1)) == datetime.date(2026, 7, 3)
    # Later years never entered: counted from the last anniversary of the latest end.
    assert privacy.school_year_cutoff(1, datetime.date(2030, 7, 10)) == datetime.date(2029, 7, 1)
    assert privacy.school_year_cutoff(1, datetime.date(2030, 6, 10)) == datetime.date(2028, 7, 1)


def test_without_any_school_year_the_cutoff_is_counted_from_today(db):
    assert privacy.school_year_cutoff(1, datetime.date(2030, 6, 10)) == datetime.date(2029, 6, 10)
