"""Families' personal data (RGPD): the export a family downloads, the retention schedule of
docs/data-protection.md applied by `manage.py apply_retention`, and the anonymisation of a
family (the same function for the schedule and for an agent's action on request).

Anonymising keeps what the town's accounts need (purchases, receipts, refunds, the ledger,
bookings, roll-call marks: amounts, dates, ticket counts) and replaces or deletes who they were
about: the ledger is append-only (a PostgreSQL trigger refuses UPDATE and DELETE), so the
people are anonymised and, of the ledger rows, only their reason texts are replaced
(`wallet.redact_reasons`, the one change the trigger allows).
"""

import datetime
import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import (
    AbsenceReport,
    AppToken,
    AttendanceMark,
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
    Refund,
    RegulationAcceptance,
    SchoolYear,
    SentNotification,
    Service,
    StripeEvent,
    TicketDebt,
    User,
    WaitlistEntry,
    Wallet,
)
from portal.money import euros

from . import booking as booking_service
from . import wallet as wallet_service
from .audit import record_action
from .deadlines import PARIS
from .files import delete_after_commit

logger = logging.getLogger(__name__)

ERASED = "‹effacé›"
CHUNK = 500


class AnonymisationRefused(Exception):
    """The family still has tickets, a debt or future bookings and the agent has not confirmed
    the consequences; `blockers` says each in a sentence."""

    def __init__(self, blockers):
        super().__init__(" ".join(blockers))
        self.blockers = blockers


# Export ---------------------------------------------------------------------------------------

def _label(choices, value):
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _child_name(row, prefix="child__"):
    return f"{row[prefix + 'first_name']} {row[prefix + 'last_name']}"


def _file_name(value):
    return value.rsplit("/", 1)[-1] if value else ""


def _of_household_children(family):
    return Q(child__family=family) | Q(child__other_family=family)


def export_sections(family, now=None):
    """The family's data as (section, rows) pairs in the order of the file, each read by one
    query whatever the family's history (the big ones in chunks, never all in memory)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    children = list(Child.objects.filter(Child.of_household(family.pk)).select_related("school")
                    .order_by("pk"))
    # A child shared with another household: its file (people, health, absences) is the same
    # for both; bookings and waiting lists are each household's own.
    of_children = _of_household_children(family)
    kid = "child__"
    yield "export", {
        "format": "preau-donnees-famille", "version": 1, "genere_le": now,
        "explication": _("Toutes les données que Préau garde sur votre foyer. Les jetons "
                         "secrets (mots de passe, jetons d’application, adresse de l’agenda) "
                         "n’y sont pas."),
    }
    yield "foyer", {
        "nom": family.name, "adresse": family.address, "code_postal": family.postcode,
        "commune": family.city, "telephone": family.phone, "autre_telephone": family.phone_secondary,
        "etat_du_dossier": _label(Family.Status, family.status), "cree_le": family.created_at,
        "quotient_familial": family.quotient, "date_du_justificatif": family.quotient_date,
        "justificatif_du_quotient": _file_name(family.quotient_document.name),
        "tranche_tarifaire": str(family.tariff_bracket) if family.tariff_bracket_id else None,
    }
    yield "responsables", (
        {"e_mail": g.email, "prenom": g.first_name, "nom": g.last_name, "telephone": g.phone,
         "compte_cree_le": g.date_joined, "derniere_connexion": g.last_login}
        for g in family.guardians.order_by("pk"))
    yield "enfants", (
        {"prenom": c.first_name, "nom": c.last_name, "date_de_naissance": c.birth_date,
         "ecole": c.school.name, "classe": c.school_class,
         "allergies_et_regime": c.allergies, "pai": c.has_pai,
         "document_pai": _file_name(c.pai_document.name),
         "repas_servi": _label(Child.Diet, c.diet), "autorise_les_photos": c.photo_consent,
         "ajoute_le": c.created_at, "fiche_verifiee_le": c.reviewed_at}
        for c in children)
    yield "personnes_autorisees", (
        {"enfant": _child_name(row), "nom": row["name"], "lien": row["relationship"],
         "telephone": row["phone"]}
        for row in AuthorisedPerson.objects.filter(of_children).order_by("child", "name")
        .values(kid + "first_name", kid + "last_name", "name", "relationship", "phone"))
    yield "pieces_du_dossier", (
        {"piece": row["requirement__name"], "annee_scolaire": row["requirement__school_year__name"],
         "etat": _label(FileItem.State, row["state"]), "fichier": row["original_name"],
         "envoye_le": row["submitted_at"], "verifie_le": row["reviewed_at"],
         "motif_du_refus": row["refusal_reason"]}
        for row in FileItem.objects.filter(family=family).order_by("pk").values(
            "requirement__name", "requirement__school_year__name", "state", "original_name",
            "submitted_at", "reviewed_at", "refusal_reason"))
    yield "consentements", {
        "acceptations_du_reglement": [
            {"reglement": row["document_title"], "version": row["version"],
             "accepte_par": row["accepted_by__email"], "accepte_le": row["accepted_at"]}
            for row in RegulationAcceptance.objects.filter(family=family).order_by("accepted_at")
            .values("document_title", "version", "accepted_by__email", "accepted_at")],
        "photos": [{"enfant": f"{c.first_name} {c.last_name}", "autorise_les_photos": c.photo_consent}
                   for c in children],
        "e_mails": {
            "rappel_avant_la_date_limite": family.email_reminders,
            "solde_de_tickets_bas": family.email_low_balance,
            "recapitulatif_des_reservations": family.email_bookings,
            "suivi_du_dossier": family.email_file,
            "informations_de_la_mairie": family.email_news,
        },
    }
    yield "reservations", (
        {"enfant": _child_name(row), "prestation": row["service__name"], "jour": row["date"],
         "etat": _label(Booking.Status, row["status"]), "reservee_le": row["created_at"],
         "annulee_le": row["cancelled_at"], "ticket_rendu": row["refunded"]}
        for row in Booking.objects.filter(family=family).order_by("date", "pk").values(
            kid + "first_name", kid + "last_name", "service__name", "date", "status", "created_at",
            "cancelled_at", "refunded").iterator(chunk_size=CHUNK))
    yield "liste_d_attente", (
        {"enfant": _child_name(row), "prestation": row["service__name"], "jour": row["date"],
         "etat": str(WaitlistEntry.state_label(row["status"], row["date"], today)),
         "inscrit_le": row["created_at"],
         "sorti_le": row["ended_at"]}
        for row in WaitlistEntry.objects.filter(family=family).order_by("date", "pk").values(
            kid + "first_name", kid + "last_name", "service__name", "date", "status", "created_at",
            "ended_at").iterator(chunk_size=CHUNK))
    yield "absences_signalees", (
        {"enfant": _child_name(row), "prestation": row["service__name"], "jour": row["date"],
         "motif": row["reason"], "certificat": _file_name(row["certificate"]),
         "etat": _label(AbsenceReport.State, row["state"]), "reponse_de_la_mairie": row["response"],
         "ticket_rendu": row["refunded"], "signalee_le": row["created_at"]}
        for row in AbsenceReport.objects.filter(of_children).order_by("date", "pk").values(
            kid + "first_name", kid + "last_name", "service__name", "date", "reason", "certificate",
            "state", "response", "refunded", "created_at").iterator(chunk_size=CHUNK))
    yield "pointages", (
        {"enfant": _child_name(row), "prestation": row["roll_call__service__name"],
         "jour": row["roll_call__date"], "present": row["present"],
         "penalite_tickets": row["penalty"], "excuse_le": row["excused_at"],
         "motif_de_l_excuse": row["excuse_reason"]}
        for row in AttendanceMark.objects.filter(of_children)
        .order_by("roll_call__date", "pk").values(
            kid + "first_name", kid + "last_name", "roll_call__service__name", "roll_call__date",
            "present", "penalty", "excused_at", "excuse_reason").iterator(chunk_size=CHUNK))
    yield "porte_monnaie", (
        {"type_de_ticket": row["ticket_type__name"], "solde": row["balance"]}
        for row in Wallet.objects.filter(family=family).order_by("ticket_type__name")
        .values("ticket_type__name", "balance"))
    yield "mouvements_de_tickets", (
        {"type_de_ticket": row["wallet__ticket_type__name"],
         "type": _label(LedgerEntry.Kind, row["kind"]), "tickets": row["quantity"],
         "motif": row["reason"], "enfant": row["child"], "le": row["created_at"]}
        for row in LedgerEntry.objects.filter(wallet__family=family).order_by("created_at", "pk")
        .values("wallet__ticket_type__name", "kind", "quantity", "reason", "created_at",
                child=Coalesce("booking__child__first_name", "attendance__child__first_name"))
        .iterator(chunk_size=CHUNK))
    yield "dettes_de_tickets", (
        {"type_de_ticket": row["wallet__ticket_type__name"], "tickets_dus": row["quantity"],
         "reste_a_payer": row["remaining"], "le": row["created_at"]}
        for row in TicketDebt.objects.filter(wallet__family=family).order_by("pk")
        .values("wallet__ticket_type__name", "quantity", "remaining", "created_at"))
    yield "paiements", (
        {"type_de_ticket": row["ticket_type__name"], "tickets": row["quantity"],
         "prix_unitaire_centimes": row["unit_cents"], "montant_centimes": row["amount_cents"],
         "moyen_de_paiement": _label(Purchase.Method, row["method"]),
         "reference": row["reference"], "etat": _label(Purchase.State, row["state"]),
         "cree_le": row["created_at"], "paye_le": row["paid_at"],
         "tickets_rembourses": row["refunded_quantity"],
         "montant_rembourse_centimes": row["refunded_cents"]}
        for row in Purchase.objects.filter(family=family).order_by("created_at", "pk").values(
            "ticket_type__name", "quantity", "unit_cents", "amount_cents", "method", "reference",
            "state", "created_at", "paid_at", "refunded_quantity", "refunded_cents")
        .iterator(chunk_size=CHUNK))
    yield "recus", (
        {"numero": f"{row['receipt__year']}-{row['receipt__number']:06d}",
         "emis_le": row["receipt__issued_at"], "montant_centimes": row["amount_cents"]}
        for row in Purchase.objects.filter(family=family, receipt__isnull=False)
        .order_by("receipt__issued_at", "pk")
        .values("receipt__year", "receipt__number", "receipt__issued_at", "amount_cents"))
    yield "remboursements", (
        {"tickets_retires": row["quantity"], "montant_centimes": row["amount_cents"],
         "motif": row["reason"], "le": row["created_at"]}
        for row in Refund.objects.filter(purchase__family=family).order_by("created_at", "pk")
        .values("quantity", "amount_cents", "reason", "created_at"))
    yield "notifications_envoyees", (
        {"type": _label(SentNotification.Kind, row["kind"]), "objet": row["subject"],
         "destinataires": row["recipients"], "envoye_le": row["sent_at"]}
        for row in SentNotification.objects.filter(family=family).order_by("sent_at", "pk")
        .values("kind", "subject", "recipients", "sent_at").iterator(chunk_size=CHUNK))
    # The apps a guardian connected, never their token (only its hash is stored anyway).
    yield "applications_connectees", (
        {"responsable": row["user__email"], "appareil": row["name"], "cree_le": row["created_at"],
         "derniere_utilisation": row["last_used_at"], "revoque_le": row["revoked_at"]}
        for row in AppToken.objects.filter(user__families=family).order_by("created_at", "pk")
        .values("user__email", "name", "created_at", "last_used_at", "revoked_at"))
    # Whether a private calendar address exists, not the address (it opens the planning).
    yield "agenda", {"adresse_privee_active": bool(family.calendar_token)}


def export_json(family, now=None):
    """The export as a stream of JSON text pieces: a section's rows are written as they are
    read, so a family with years of bookings never sits whole in memory."""
    def dumps(value):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)

    yield "{"
    for index, (name, rows) in enumerate(export_sections(family, now)):
        yield ("," if index else "") + f"\n{dumps(name)}: "
        if isinstance(rows, dict):
            yield dumps(rows)
            continue
        yield "["
        for position, row in enumerate(rows):
            yield ("," if position else "") + "\n  " + dumps(row)
        yield "\n]"
    yield "\n}\n"


def summary(family):
    """What the readable summary page shows: everything, with the day-by-day bookings and the
    ledger summed per month and kind (the detail is in the JSON file). A fixed number of queries."""
    children = list(Child.objects.filter(Child.of_household(family.pk)).select_related("school")
                    .prefetch_related("authorised_people").order_by("pk"))
    months = (Booking.objects.filter(family=family)
              .annotate(month=TruncMonth("date")).order_by("month", "child", "service__name")
              .values("month", "child__first_name", "child__last_name", "service__name")
              .annotate(booked=Count("pk", filter=Q(status=Booking.Status.ACTIVE)),
                        cancelled=Count("pk", filter=Q(status=Booking.Status.CANCELLED))))
    ledger = (LedgerEntry.objects.filter(wallet__family=family)
              .order_by("wallet__ticket_type__name", "kind")
              .values("wallet__ticket_type__name", "kind")
              .annotate(entries=Count("pk"), tickets=Sum("quantity")))
    return {
        "family": family,
        "guardians": list(family.guardians.order_by("pk")),
        "children": children,
        "file_items": list(FileItem.objects.filter(family=family).select_related(
            "requirement__school_year").order_by("pk")),
        "acceptances": list(RegulationAcceptance.objects.filter(family=family)
                            .select_related("accepted_by").order_by("accepted_at")),
        "booking_months": [dict(row, child=_child_name(row)) for row in months],
        "waitlist": list(WaitlistEntry.objects.filter(family=family)
                         .select_related("child", "service").order_by("date", "pk")),
        "absences": list(AbsenceReport.objects.filter(_of_household_children(family))
                         .select_related("child", "service").order_by("date", "pk")),
        "wallets": list(Wallet.objects.filter(family=family).select_related("ticket_type")
                        .order_by("ticket_type__name")),
        "ledger": [dict(row, kind_label=_label(LedgerEntry.Kind, row["kind"])) for row in ledger],
        "debts": list(TicketDebt.objects.filter(wallet__family=family, remaining__gt=0)
                      .select_related("wallet__ticket_type")),
        "purchases": list(Purchase.objects.filter(family=family)
                          .select_related("ticket_type", "receipt").order_by("created_at", "pk")),
        "refunds": [{"refund": r, "amount": euros(r.amount_cents)}
                    for r in Refund.objects.filter(purchase__family=family).order_by("created_at", "pk")],
        "notifications": list(SentNotification.objects.filter(family=family)
                              .order_by("-sent_at", "-pk")),
        "app_tokens": list(AppToken.objects.filter(user__families=family).select_related("user")
                           .order_by("created_at", "pk")),
        "calendar_feed": bool(family.calendar_token),
        "retention": durations(),
    }


def record_export(family, *, by, kind):
    record_action(by, "family.export", family, target=kind)


# Anonymisation --------------------------------------------------------------------------------

def _health_fields_erased(child, files):
    """Empty a child's health data (allergies, diet, PAI and its document, sick-day reasons and
    certificates); the files are added to `files`. The child's sheet must be checked again by
    an agent before it is bookable (a child coming back must not be booked with no allergy
    recorded because it was deleted)."""
    if child.pai_document:
        files.append(child.pai_document)
    child.allergies, child.has_pai, child.pai_document, child.diet = "", False, "", Child.Diet.STANDARD
    child.reviewed_at = None
    reports = list(AbsenceReport.objects.filter(child=child).select_for_update())
    for report in reports:
        if report.certificate:
            files.append(report.certificate)
        report.certificate, report.certificate_type, report.reason = "", "", ""
        report.response = ERASED if report.response else ""
    AbsenceReport.objects.bulk_update(reports, ["certificate", "certificate_type", "reason", "response"])
    AttendanceMark.objects.filter(child=child).exclude(excuse_reason="").update(excuse_reason="")


def has_health_data_q():
    """A child with anything _health_fields_erased() would empty."""
    return (~Q(allergies="") | Q(has_pai=True) | ~Q(pai_document="") | ~Q(diet="")
            | Exists(AbsenceReport.objects.filter(child=OuterRef("pk"))
                     .filter(~Q(reason="") | ~Q(certificate="")))
            | Exists(AttendanceMark.objects.filter(child=OuterRef("pk")).exclude(excuse_reason="")))


@transaction.atomic
def remove_health_data(child, *, by=None):
    child = Child.objects.select_for_update().get(pk=child.pk)
    files = []
    _health_fields_erased(child, files)
    child.save(update_fields=["allergies", "has_pai", "pai_document", "diet", "reviewed_at"])
    delete_after_commit(files)
    record_action(by, "child.health_erased", child.family, target=f"enfant n° {child.pk}")
    return child


def anonymisation_blockers(family, today=None):
    """What the family would lose or leave behind, in sentences an agent confirms: tickets not
    used, penalty tickets owed, bookings to come."""
    today = today or timezone.localdate()
    blockers = []
    tickets = list(Wallet.objects.filter(family=family, balance__gt=0).select_related("ticket_type")
                   .order_by("ticket_type__name"))
    if tickets:
        detail = ", ".join(f"{w.ticket_type.name} : {w.balance}" for w in tickets)
        total = sum(w.balance for w in tickets)
        blockers.append(ngettext(
            "Le foyer a encore %(n)d ticket non utilisé (%(detail)s) : il sera perdu, les tickets "
            "ne sont pas remboursables (remboursez-le d’abord dans Paiements si la commune le décide).",
            "Le foyer a encore %(n)d tickets non utilisés (%(detail)s) : ils seront perdus, les "
            "tickets ne sont pas remboursables (remboursez-les d’abord dans Paiements si la commune "
            "le décide).", total) % {"n": total, "detail": detail})
    debt = TicketDebt.objects.filter(wallet__family=family, remaining__gt=0).aggregate(
        n=Sum("remaining"))["n"] or 0
    if debt:
        blockers.append(ngettext(
            "Le foyer doit encore %(n)d ticket de pénalité : la dette reste dans les comptes, mais "
            "le foyer ne pourra plus être retrouvé ni prévenu par Préau.",
            "Le foyer doit encore %(n)d tickets de pénalité : la dette reste dans les comptes, mais "
            "le foyer ne pourra plus être retrouvé ni prévenu par Préau.", debt) % {"n": debt})
    future = Booking.objects.filter(family=family, status=Booking.Status.ACTIVE,
                                    date__gte=today).count()
    if future:
        blockers.append(ngettext(
            "%(n)d réservation à venir : elle sera annulée et son ticket rendu au porte-monnaie "
            "(la place libérée va à la liste d’attente).",
            "%(n)d réservations à venir : elles seront annulées et leurs tickets rendus au "
            "porte-monnaie (les places libérées vont à la liste d’attente).", future) % {"n": future})
    return blockers


def _erasable_children(family):
    """The children anonymised with the family: its own, unless shared with a household that
    is still here (the child then becomes that household's alone)."""
    return Child.objects.filter(family=family).filter(
        Q(other_family__isnull=True) | Q(other_family__anonymised_at__isnull=False))


def anonymisation_preview(family):
    """The confirmation page's figures: what goes and what stays."""
    erasable = _erasable_children(family)
    return {
        "removed": {
            "guardians": family.guardians.count(),
            "children": erasable.count(),
            "authorised_people": AuthorisedPerson.objects.filter(child__in=erasable).count(),
            "files": (FileItem.objects.filter(family=family).exclude(file="").count()
                      + erasable.exclude(pai_document="").count()
                      + AbsenceReport.objects.filter(child__in=erasable).exclude(certificate="").count()
                      + (1 if family.quotient_document else 0)),
            "acceptances": RegulationAcceptance.objects.filter(family=family).count(),
            "notifications": SentNotification.objects.filter(family=family).count(),
        },
        "redacted": {"audit_entries": AuditLog.objects.filter(family=family).count()},
        "kept": {
            "shared_children": Child.objects.filter(Child.of_household(family.pk)).count() - erasable.count(),
            "bookings": Booking.objects.filter(family=family).count(),
            "ledger_entries": LedgerEntry.objects.filter(wallet__family=family).count(),
            "purchases": Purchase.objects.filter(family=family).count(),
            "receipts": Purchase.objects.filter(family=family, receipt__isnull=False).count(),
        },
    }


def _anonymise_guardian(user, family):
    """A guardian of this family only is anonymised (kept as the author of purchases and
    ledger entries); one who still has another family, or who is an agent, is only unlinked."""
    elsewhere = user.families.exclude(pk=family.pk).filter(anonymised_at__isnull=True).exists()
    if elsewhere or user.is_staff:
        family.guardians.remove(user)
        return "unlinked"
    from django_otp import devices_for_user

    for device in devices_for_user(user, confirmed=None):
        device.delete()
    AppToken.objects.filter(user=user).delete()
    Invitation.objects.filter(user=user).delete()
    user.email = f"anonyme-{user.pk}@anonyme.invalid"
    user.first_name = user.last_name = user.phone = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    return "anonymised"


def _drop_unsent_emails(addresses):
    """E-mails still waiting for the mail server (or given up) to addresses just anonymised are
    deleted: sent later, they would reach a family that asked to be forgotten, and their text
    names it. One the worker is sending at this moment (its row locked) goes out anyway."""
    if not addresses:
        return 0
    unsent = (OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT)
              .select_for_update(skip_locked=True).only("pk", "recipients"))
    # In Python: the queue is short, and JSON "contains" is not available on SQLite.
    ids = [e.pk for e in unsent if addresses.intersection(e.recipients)]
    return OutgoingEmail.objects.filter(pk__in=ids).delete()[0]


def _redact_audit(family):
    """The family's journal entries keep who acted, when and what action; the object's name and
    the values before and after go (only the names of the fields changed are kept)."""
    # The journal's own manager refuses any change: this is the one place that rewrites it.
    entries = models.QuerySet(model=AuditLog).filter(family=family)
    batch = []
    for entry in entries.only("pk", "target", "before", "after").iterator(chunk_size=CHUNK):
        entry.target = ERASED if entry.target else ""
        entry.before = {key: ERASED for key in entry.before or {}}
        entry.after = {key: ERASED for key in entry.after or {}}
        batch.append(entry)
        if len(batch) >= CHUNK:
            entries.bulk_update(batch, ["target", "before", "after"])
            batch = []
    if batch:
        entries.bulk_update(batch, ["target", "before", "after"])


def _lock_against_bookings(family):
    """Wait for the family's bookings in flight and hold off new ones until the anonymisation
    commits (then its file no longer opens bookings). book_day locks the service's row for a
    capacity-limited service, then the wallet it pays from, and its booking's foreign keys are
    checked at commit, with a share lock on the family's row. So the same order here, before
    the family's row: every capped service, then every wallet of the family, each by primary
    key. Cancelling the family's future bookings afterwards takes locks already held."""
    list(Service.objects.select_for_update().filter(capacity__isnull=False).order_by("pk")
         .values_list("pk", flat=True))
    list(Wallet.objects.select_for_update(of=("self",)).filter(family=family).order_by("pk")
         .values_list("pk", flat=True))


def anonymise_family(family, *, by=None, confirm=False, now=None, reason="request"):
    """Remove a family's personal data and keep its accounts (see the module's docstring and
    docs/data-protection.md). Refused with AnonymisationRefused while it has tickets, a debt or
    future bookings, unless `confirm`; future bookings are then cancelled by an agent `by`.
    Returns a dict of counts (also written, without any name, to the audit log)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        _lock_against_bookings(family)
        family = Family.objects.select_for_update().get(pk=family.pk)
        if family.anonymised_at is not None:
            raise AnonymisationRefused([_("Ce foyer est déjà anonymisé.")])
        blockers = anonymisation_blockers(family, today)
        if blockers and not confirm:
            raise AnonymisationRefused(blockers)
        future = list(Booking.objects.filter(family=family, status=Booking.Status.ACTIVE,
                                             date__gte=today)
                      .select_related("child__family", "family", "service").order_by("pk"))
        if future and by is None:
            raise AnonymisationRefused([_("Des réservations sont à venir : seul un agent peut les "
                                          "annuler.")])
        for b in future:
            booking_service.cancel_booking(b, by=by, refund=True, now=now)

        files = []
        counts = {"future_bookings_cancelled": len(future)}
        users = list(family.guardians.all())
        addresses = [user.email for user in users]
        guardians = [_anonymise_guardian(user, family) for user in users]
        counts["guardians_anonymised"] = guardians.count("anonymised")
        counts["guardians_unlinked"] = guardians.count("unlinked")
        counts["emails_not_sent"] = _drop_unsent_emails(
            {email for email, done in zip(addresses, guardians, strict=True) if done == "anonymised"})

        children = list(Child.objects.filter(Child.of_household(family.pk)).select_related("other_family")
                        .select_for_update(of=("self",)).order_by("pk"))
        erased, shared = [], 0
        for child in children:
            if child.other_family_id == family.pk:  # the other household keeps its child
                child.other_family = None
                child.save(update_fields=["other_family"])
                shared += 1
            elif child.other_family_id is not None and child.other_family.anonymised_at is None:
                # Shared with a household still here: the child and its file become its alone.
                child.family, child.other_family = child.other_family, None
                child.save(update_fields=["family", "other_family"])
                shared += 1
            else:
                erased.append(child)
        for number, child in enumerate(erased, start=1):
            _health_fields_erased(child, files)
            child.first_name = _("Enfant %(n)d") % {"n": number}
            child.last_name = _("anonyme")
            # The year is kept for statistics by age; the day and month identify.
            child.birth_date = child.birth_date.replace(month=1, day=1)
            child.school_class = ""
            child.photo_consent = False
            child.save()
        counts["children"], counts["children_left_to_other_household"] = len(erased), shared
        counts["authorised_people"] = AuthorisedPerson.objects.filter(child__in=erased).delete()[0]

        items = list(FileItem.objects.filter(family=family).exclude(file=""))
        files.extend(item.file for item in items)
        counts["file_items"] = FileItem.objects.filter(family=family).delete()[0]
        counts["acceptances"] = RegulationAcceptance.objects.filter(family=family).delete()[0]
        counts["notifications"] = SentNotification.objects.filter(family=family).delete()[0]
        Invitation.objects.filter(family=family).delete()
        # One by one: each save bumps the counters of the pages showing the list's places.
        for entry in WaitlistEntry.objects.filter(family=family, status=WaitlistEntry.Status.WAITING):
            entry.status, entry.ended_at = WaitlistEntry.Status.LEFT, now
            entry.save(update_fields=["status", "ended_at"])
        if family.quotient_document:
            files.append(family.quotient_document)

        family.name = _("Foyer anonymisé n° %(pk)d") % {"pk": family.pk}
        family.address = family.postcode = family.city = family.phone = family.phone_secondary = ""
        family.email_reminders = family.email_low_balance = family.email_bookings = False
        family.email_file = family.email_news = False
        family.calendar_token = None
        family.quotient, family.quotient_date, family.quotient_document = None, None, ""
        family.status = Family.Status.SUSPENDED
        family.anonymised_at = now
        family.save()

        _redact_audit(family)
        # Préau's older texts named the child, an excuse repeated the family's reason, and an
        # agent's adjustment says what the agent typed: none of it stays.
        counts["ledger_reasons"] = wallet_service.redact_reasons(
            Wallet.objects.filter(family=family).values_list("pk", flat=True),
            _("Motif effacé (foyer anonymisé)"))
        counts["files"] = len(files)
        record_action(by, "family.anonymise", family, target=f"foyer n° {family.pk}",
                      after={**counts, "reason": reason, "confirmed": blockers})
        delete_after_commit(files)
    return counts


# Retention schedule ---------------------------------------------------------------------------

def durations():
    return settings.PREAU_RETENTION


def school_year_cutoff(years, today):
    """The last day of the school year that ended `years` school years before the latest one
    that has ended: activity up to that day and none since means `years` whole school years
    without the service. School years not recorded end on the anniversaries of the latest
    one recorded (before the first: a year before it); none at all: `years` years before today."""
    ends = list(SchoolYear.objects.filter(end__lt=today).order_by("-end")
                .values_list("end", flat=True)[:years + 1])
    if not ends:
        return _years_before(today, years)
    # School years not entered after the latest one: they are taken to end on its anniversaries,
    # so a town that stopped entering them still sees its schedule applied.
    later = []
    while (anniversary := _years_before(ends[0], -(len(later) + 1))) < today:
        later.append(anniversary)
    ends = later[::-1] + ends
    if len(ends) > years:
        return ends[years]
    return _years_before(ends[-1], years - len(ends) + 1)


def _years_before(moment, years):
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def _day_after(day):
    """The first instant after `day` in Paris: a date-time before it is on or before that day."""
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=PARIS)


def gone_families(today):
    """Families with no activity after the cutoff (see docs/data-protection.md, « gone »):
    no booking or waiting-list day, no payment, no file piece sent, no regulation accepted, no
    guardian's log-in, no child or family created after it."""
    cutoff = school_year_cutoff(durations()["family_years"], today)
    after = _day_after(cutoff)
    family = OuterRef("pk")
    return (Family.objects.filter(anonymised_at__isnull=True, created_at__lt=after)
            .exclude(Exists(Booking.objects.filter(family=family, date__gt=cutoff)))
            .exclude(Exists(WaitlistEntry.objects.filter(family=family, date__gt=cutoff)))
            .exclude(Exists(Child.objects.filter(Child.of_household(family), created_at__gte=after)))
            .exclude(Exists(Purchase.objects.filter(family=family, created_at__gte=after)))
            .exclude(Exists(FileItem.objects.filter(family=family, submitted_at__gte=after)))
            .exclude(Exists(RegulationAcceptance.objects.filter(family=family, accepted_at__gte=after)))
            .exclude(Exists(User.objects.filter(families=family, last_login__gte=after)))
            .order_by("pk"))


def children_who_left(today):
    """Children still holding health data with no booking or waiting-list day after the
    health cutoff and added before it (their families may still be active)."""
    cutoff = school_year_cutoff(durations()["health_years"], today)
    child = OuterRef("pk")
    return (Child.objects.filter(has_health_data_q(), created_at__lt=_day_after(cutoff))
            .exclude(Exists(Booking.objects.filter(child=child, date__gt=cutoff)))
            .exclude(Exists(WaitlistEntry.objects.filter(child=child, date__gt=cutoff)))
            .order_by("pk"))


@dataclass
class RetentionRun:
    today: datetime.date
    family_cutoff: datetime.date
    health_cutoff: datetime.date
    families: list = field(default_factory=list)  # (family pk, blockers)
    children: list = field(default_factory=list)  # child pks
    deleted: dict = field(default_factory=dict)  # what: how many rows


def _old_rows(now):
    """The rows older than their duration, by what they are (querysets, not yet deleted)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    d = durations()
    logins = now - datetime.timedelta(days=d["login_days"])
    audit = _years_before(now, d["audit_years"])
    return {
        "login_attempts": AccessAttempt.objects.filter(attempt_time__lt=logins),
        "login_failures": AccessFailureLog.objects.filter(attempt_time__lt=logins),
        "logins": AccessLog.objects.filter(attempt_time__lt=logins),
        "invitations": Invitation.objects.filter(
            used_at__isnull=True, expires_at__lt=now - datetime.timedelta(days=d["invitation_days"])),
        "emails": OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.PENDING).filter(
            created_at__lt=now - datetime.timedelta(days=d["email_days"])),
        # Stored once processed only to answer Stripe's retries (days): the payment keeps its ids.
        "stripe_events": StripeEvent.objects.filter(
            processed_at__isnull=False,
            received_at__lt=now - datetime.timedelta(days=d["stripe_event_days"])),
        # The journal's own manager refuses deletes: the schedule is the one exception.
        "audit_entries": models.QuerySet(model=AuditLog).filter(created_at__lt=audit),
    }


def apply_retention(*, now=None, dry_run=False):
    """Apply the schedule once (idempotent: a second run finds nothing more to do). With
    `dry_run`, only say what would be done."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    d = durations()
    run = RetentionRun(today=today, family_cutoff=school_year_cutoff(d["family_years"], today),
                       health_cutoff=school_year_cutoff(d["health_years"], today))
    # The numbers first: each family is then changed in its own transaction, never while a
    # cursor over the families is still open.
    for family_id in list(gone_families(today).values_list("pk", flat=True)):
        family = Family.objects.get(pk=family_id)
        blockers = anonymisation_blockers(family, today)
        run.families.append((family.pk, blockers))
        if not dry_run:
            # Gone for whole school years: the schedule is the town's decision, the tickets and
            # debts stay in the accounts (see docs/data-protection.md).
            anonymise_family(family, by=None, confirm=True, now=now, reason="retention")
    gone = [pk for pk, _blockers in run.families]
    # Children of the families just anonymised have lost their health data with them.
    for child_id in list(children_who_left(today).exclude(family_id__in=gone).values_list("pk", flat=True)):
        run.children.append(child_id)
        if not dry_run:
            remove_health_data(Child(pk=child_id))
    for what, rows in _old_rows(now).items():
        # delete() also counts the rows that went with them (axes' expirations): only these.
        run.deleted[what] = rows.count() if dry_run else rows.delete()[1].get(rows.model._meta.label, 0)
    if not dry_run and (run.families or run.children or any(run.deleted.values())):
        record_action(None, "retention.apply", None, target=str(today),
                      after={"families": len(run.families), "children": len(run.children),
                             **run.deleted})
    return run
