"""The family file (dossier): requirements, uploads, the regulation, review and validation."""

import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext as _

from documents.models import PreauDocument
from documents.pdf import simple_pdf
from portal.models import (
    AuditLog,
    Child,
    Family,
    FileItem,
    FileRequirement,
    RegulationAcceptance,
    SchoolYear,
    TariffBracket,
)

from . import files, notify
from .audit import changed, record_action, snapshot
from .mail import absolute_url
from .town import town_settings

# What an upload may be, recognised from its first bytes, not its name.
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/jpeg": {".jpg", ".jpeg"},
    "image/png": {".png"},
}
CHILD_FIELDS = ("first_name", "last_name", "birth_date", "school", "school_class",
                "allergies", "has_pai", "pai_document", "photo_consent", "other_family")
FAMILY_EDIT_FIELDS = ("name", "address", "postcode", "city", "phone", "phone_secondary",
                      "email_reminders", "email_low_balance", "email_bookings", "email_file",
                      "email_news")
TARIFF_FIELDS = ("tariff_bracket", "quotient", "quotient_date", "quotient_document")
# States of a piece that close bookings: never sent, refused, or asked again for a new year.
BLOCKING_STATES = (FileItem.State.MISSING, FileItem.State.REFUSED, FileItem.State.RENEW)


class DossierError(Exception):
    """A refusal with a message meant for the person who asked."""


def validate_upload(uploaded):
    """Return the content type of a PDF/JPEG/PNG upload; refuse anything else or too big."""
    limit = settings.PREAU_UPLOAD_MAX_BYTES
    if uploaded.size > limit:
        raise ValidationError(
            _("Ce fichier est trop lourd (%(size)s Mo) : %(max)s Mo au plus. Réduisez-le ou "
              "photographiez le document en qualité moindre.")
            % {"size": round(uploaded.size / 1_048_576, 1), "max": limit // 1_048_576},
            code="too_big")
    if uploaded.size == 0:
        raise ValidationError(_("Ce fichier est vide."), code="empty")
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    extension = os.path.splitext(uploaded.name or "")[1].lower()
    for content_type, magics in SIGNATURES.items():
        if head.startswith(magics) and extension in EXTENSIONS[content_type]:
            return content_type
    raise ValidationError(
        _("Seuls les fichiers PDF, JPEG ou PNG sont acceptés (et le contenu doit correspondre à "
          "l’extension du nom du fichier)."), code="bad_type")


def regulations():
    """The regulations, the one in force first (the latest published; on a tie, the latest added)."""
    return (PreauDocument.objects.filter(kind=PreauDocument.Kind.REGULATION)
            .order_by("-publication_date", "-pk"))


def current_regulation():
    return regulations().first()


class Reason(str):
    """A sentence for the family, with the page where it can act on it ("" if none)."""

    url = ""

    def __new__(cls, text, url=""):
        reason = super().__new__(cls, text)
        reason.url = url
        return reason


def regulation_grace(family, regulation=None, today=None):
    """The date until which this family may still book without accepting the current
    regulation (it accepted an earlier version and the editor gave a grace period), or None."""
    regulation = regulation or current_regulation()
    today = today or timezone.localdate()
    if regulation is None or regulation.acceptance_grace_until is None:
        return None
    if regulation.acceptance_grace_until < today:
        return None
    accepted = set(family.regulation_acceptances.values_list("document_id", flat=True))
    if regulation.pk in accepted or not accepted:
        return None
    return regulation.acceptance_grace_until


def announce_regulation(regulation, told=()):
    """Tell the families who accepted an earlier version that a new one awaits them (once).
    `told`: ids of families whose rollover message (ask_to_renew) already asks them to accept it,
    so that one rollover sends a family one e-mail."""
    if current_regulation() != regulation:  # an older version filed for the record
        return 0
    if AuditLog.objects.filter(action="regulation.announce", target=str(regulation.pk)).exists():
        return 0
    families = (Family.objects.filter(regulation_acceptances__isnull=False)
                .exclude(regulation_acceptances__document=regulation)
                .exclude(status=Family.Status.SUSPENDED).distinct().prefetch_related("guardians"))
    context = {"regulation": regulation, "until": regulation.acceptance_grace_until,
               "regulation_url": absolute_url(reverse("portal:regulation"))}
    count = 0
    for family in families:
        if family.pk in told:
            continue
        # Always sent (bookings stop without an acceptance), once per family and version.
        if notify.notify(family, notify.Kind.FILE, "regulation_new", context,
                         key=f"regulation:{regulation.pk}:{family.pk}", always=True):
            count += 1
    record_action(None, "regulation.announce", target=str(regulation.pk),
                  after={"version": regulation.version, "families": count})
    return count


def regulation_acceptance(family, regulation=None):
    regulation = regulation or current_regulation()
    if regulation is None:
        return None
    return family.regulation_acceptances.filter(document=regulation).first()


@dataclass
class DossierLine:
    requirement: FileRequirement
    state: str
    item: FileItem | None = None
    acceptance: RegulationAcceptance | None = None

    @property
    def state_label(self):
        return FileItem.State(self.state).label

    @property
    def is_done(self):
        return self.state == FileItem.State.ACCEPTED

    @property
    def needs_action(self):
        return self.state in BLOCKING_STATES


def dossier_lines(family, school_year=None):
    """One line per requirement of the school year with the family's state for it."""
    school_year = school_year or SchoolYear.current()
    if school_year is None:
        return []
    requirements = list(school_year.file_requirements.all())
    items = {i.requirement_id: i for i in family.file_items.filter(requirement__in=requirements)}
    regulation = current_regulation()
    acceptance = regulation_acceptance(family, regulation) if regulation else None
    lines = []
    for requirement in requirements:
        if requirement.kind == FileRequirement.Kind.REGULATION:
            state = FileItem.State.ACCEPTED if acceptance else FileItem.State.MISSING
            lines.append(DossierLine(requirement, state, acceptance=acceptance))
        else:
            item = items.get(requirement.pk)
            lines.append(DossierLine(requirement, item.state if item else FileItem.State.MISSING,
                                     item=item))
    return lines


def file_check(family, lines=None):
    """(what still stands between this family and bookings, as sentences for the banners;
    the reminder shown during a new regulation's grace period, or None). `lines`: the family's
    dossier_lines when the caller has them already."""
    reasons, notice = [], None
    if family.status == Family.Status.SUSPENDED:
        return [Reason(_("Votre compte est suspendu : contactez la mairie."))], None
    if not Child.objects.filter(Child.of_household(family.pk)).exists():
        reasons.append(Reason(_("Ajoutez vos enfants.")))
    for line in dossier_lines(family) if lines is None else lines:
        if line.requirement.kind == FileRequirement.Kind.REGULATION and not line.is_done:
            url = reverse("portal:regulation")
            if (until := regulation_grace(family)) is not None:
                notice = Reason(_("Un nouveau règlement est publié : acceptez-le avant le %(date)s "
                                  "pour continuer à réserver.") % {"date": date_format(until, "j F Y")},
                                url)
            elif family.regulation_acceptances.exists():
                reasons.append(Reason(_("Acceptez le nouveau règlement : vos réservations reprendront "
                                        "aussitôt."), url))
            else:
                reasons.append(Reason(_("Acceptez le règlement en vigueur."), url))
        elif line.state == FileItem.State.MISSING:
            reasons.append(Reason(_("Envoyez : %(name)s.") % {"name": line.requirement.name}))
        elif line.state == FileItem.State.RENEW:
            reasons.append(Reason(_("Renouvelez : %(name)s (demandé chaque année).")
                                  % {"name": line.requirement.name}))
        elif line.state == FileItem.State.REFUSED:
            reasons.append(Reason(_("Renvoyez : %(name)s (refusé : %(reason)s).")
                                  % {"name": line.requirement.name,
                                     "reason": line.item.refusal_reason}))
    if not reasons and family.status != Family.Status.VALIDATED:
        reasons.append(Reason(_("La mairie doit encore vérifier et valider votre dossier.")))
    return reasons, notice


def missing_for_bookings(family, lines=None):
    return file_check(family, lines)[0]


def bookings_open_q(family_id, today=None, school_year=None):
    """Whether the family's file opens bookings, as a filter on its Family row: validated, with
    a child, and no requirement of the school year blocking (the current regulation not
    accepted, outside a new version's grace period; a piece never sent, refused or to renew).
    The one statement of the rule: bookings_open(), the planning's file status and book_day's
    facts under its locks all use it; file_check() says why, in sentences, when it is closed.

    `school_year` (an id or an expression): a year after the current one, whose file the
    rollover asked families to renew (renewal_year_q); the grace period of a new regulation
    is for the current year's days only. Default: the current school year."""
    today = today or timezone.localdate()

    def regulation():
        return Subquery(regulations().values("pk")[:1])

    accepted = RegulationAcceptance.objects.filter(family_id=family_id)
    regulation_missing = (Q(kind=FileRequirement.Kind.REGULATION)
                          & ~Exists(accepted.filter(document_id=regulation())))
    if school_year is None:
        school_year = SchoolYear.current_id(today)
        # regulation_grace: an earlier version accepted, the current one's grace date not passed.
        regulation_missing &= ~(Exists(accepted) & Exists(PreauDocument.objects.filter(
            pk=regulation(), acceptance_grace_until__gte=today)))
    piece_missing = ~Q(kind=FileRequirement.Kind.REGULATION) & ~Exists(
        FileItem.objects.filter(family_id=family_id, requirement_id=OuterRef("pk"))
        .exclude(state__in=BLOCKING_STATES))
    blocking = FileRequirement.objects.filter(school_year_id=school_year).filter(
        regulation_missing | piece_missing)
    return (Q(pk=family_id, status=Family.Status.VALIDATED)
            & Exists(Child.objects.filter(Child.of_household(family_id))) & ~Exists(blocking))


def renewal_years(today=None):
    """The school years after the current one (created by the rollover): a family books their
    days once its file for that year is renewed."""
    current = SchoolYear.objects.filter(pk=SchoolYear.current_id(today)).values("end")[:1]
    return SchoolYear.objects.filter(start__gt=Subquery(current)).order_by("start")


def renewal_year_q(day, today=None):
    """The school year after the current one that holds `day` (a queryset of 0 or 1 row)."""
    return renewal_years(today).filter(start__lte=day, end__gte=day)


def bookings_open(family, today=None):
    """Whether the family's file, as stored, opens bookings (one query)."""
    return Family.objects.filter(bookings_open_q(family.pk, today)).exists()


def renewed_years(family, today=None):
    """[(year, renewed)] for each school year after the current one, in one query: whether the
    family's file for that year opens its days (bookings_open_q of that year)."""
    return [(year, year.renewed) for year in renewal_years(today).annotate(renewed=Exists(
        Family.objects.filter(bookings_open_q(family.pk, today, school_year=OuterRef(OuterRef("pk"))))))]


@dataclass
class RenewalRequest:
    """What a household must do for its file of a new school year (renewal_requests)."""

    family: Family
    staying: list  # [Child] at school in the new year
    leaving: list  # [Child] leaving the school at its start
    pieces: list  # [(FileRequirement, FileItem.State)] blocking the year's bookings
    regulation: PreauDocument | None  # the regulation in force, to accept; None if accepted


# An invited family has not opened its account: its invitation says what to do. A suspended one
# books nothing.
NOT_ASKED = (Family.Status.INVITED, Family.Status.SUSPENDED)


def renewal_requests(year):
    """[RenewalRequest] for each household with a child at school in `year` whose file for that
    year still has a piece to send (to renew, never sent, refused: BLOCKING_STATES) or the
    regulation in force to accept, as bookings_open_q reads it; families in NOT_ASKED are left
    out. Pieces are the household's (a file per household), children its own and those it shares
    with another household. Seven queries, whatever the number of families."""
    asked = Family.objects.exclude(status__in=NOT_ASKED)
    staying = Q(leaves_on__isnull=True) | Q(leaves_on__gt=year.start)
    families = list(asked.filter(Exists(Child.objects.filter(staying, Child.of_household(OuterRef("pk")))))
                    .prefetch_related("guardians").order_by("pk"))
    if not families:
        return []
    requirements = list(year.file_requirements.all())
    states = {(family_id, requirement_id): state for family_id, requirement_id, state in
              FileItem.objects.filter(requirement__school_year=year, family__in=asked)
              .values_list("family_id", "requirement_id", "state")}
    regulation = current_regulation()
    accepted = set()
    if regulation is not None and any(r.kind == FileRequirement.Kind.REGULATION for r in requirements):
        accepted = set(RegulationAcceptance.objects.filter(document=regulation, family__in=asked)
                       .values_list("family_id", flat=True))
    else:
        regulation = None  # no regulation to accept for that year (or none published yet)
    children = {}
    for child in (Child.objects.filter(Q(leaves_on__isnull=True) | Q(leaves_on__gte=year.start))
                  .filter(Q(family__in=asked) | Q(other_family__in=asked)).order_by("first_name", "pk")):
        for household in child.households():
            children.setdefault(household, []).append(child)
    requests = []
    for family in families:
        pieces = [(r, states.get((family.pk, r.pk), FileItem.State.MISSING)) for r in requirements
                  if r.kind == FileRequirement.Kind.UPLOAD]
        pieces = [(r, state) for r, state in pieces if state in BLOCKING_STATES]
        to_accept = regulation if regulation is not None and family.pk not in accepted else None
        if not (pieces or to_accept):
            continue
        own = children.get(family.pk, [])
        requests.append(RenewalRequest(
            family, [c for c in own if c.leaves_on is None or c.leaves_on > year.start],
            [c for c in own if c.leaves_on is not None and c.leaves_on <= year.start],
            pieces, to_accept))
    return requests


def ask_to_renew(year, today=None):
    """E-mail each household of renewal_requests(year) one message: its children for the new
    year, the pieces to send and the regulation to accept, before the year's first day, with a
    link to its file. Always sent (an administrative message: without it, no booking of the new
    year), once per household and year whatever the number of runs. Returns (the ids of the
    families asked, by this run or an earlier one; how many messages this run queued)."""
    asked, sent = set(), 0
    for request in renewal_requests(year):
        asked.add(request.family.pk)
        if notify.renewal_requested(request, year, today=today) is not None:
            sent += 1
    return asked, sent


def refresh_status(family):
    """Move an unvalidated family between incomplete and submitted as its file fills up."""
    if family.status not in (Family.Status.INVITED, Family.Status.INCOMPLETE,
                             Family.Status.SUBMITTED):
        return family.status
    lines = dossier_lines(family)
    complete = (Child.objects.filter(Child.of_household(family.pk)).exists() and lines
                and all(line.state in (FileItem.State.SENT, FileItem.State.ACCEPTED)
                        for line in lines))
    status = Family.Status.SUBMITTED if complete else Family.Status.INCOMPLETE
    if status != family.status:
        family.status = status
        family.save(update_fields=["status", "updated_at"])
    return status


def _locked_family(family):
    return Family.objects.select_for_update().get(pk=family.pk)


def _editable(family):
    if family.status == Family.Status.SUSPENDED:
        raise DossierError(_("Votre compte est suspendu : contactez la mairie."))


@transaction.atomic
def submit_file(family, requirement, uploaded, *, by):
    """Store a family's upload for one requirement; it waits for an agent's review."""
    family = _locked_family(family)
    _editable(family)
    if requirement.kind != FileRequirement.Kind.UPLOAD:
        raise DossierError(_("Cette pièce ne demande pas de fichier."))
    content_type = validate_upload(uploaded)
    item, _created = FileItem.objects.select_for_update().get_or_create(
        family=family, requirement=requirement)
    if item.state == FileItem.State.ACCEPTED:
        raise DossierError(_("Cette pièce a déjà été acceptée par la mairie."))
    old_file = item.file.name
    extension = os.path.splitext(uploaded.name)[1].lower()
    item.file.save(f"famille-{family.pk}-piece-{requirement.pk}{extension}", uploaded, save=False)
    item.original_name = os.path.basename(uploaded.name)[:255]
    item.content_type = content_type
    item.state = FileItem.State.SENT
    item.submitted_at = timezone.now()
    item.submitted_by = by
    item.refusal_reason = ""
    item.reviewed_at = None
    item.reviewed_by = None
    item.save()
    # A piece carried over to a new year (services.rollover) shares its file with last year's.
    if old_file and old_file != item.file.name and not FileItem.objects.filter(
            file=old_file).exclude(pk=item.pk).exists():
        files.delete_after_commit([old_file])
    record_action(by, "file.submit", family, target=requirement.name,
                  after={"state": item.state, "file": item.original_name})
    refresh_status(family)
    return item


@transaction.atomic
def accept_regulation(family, *, by):
    """Record who accepted which version of the current regulation, and when."""
    family = _locked_family(family)
    _editable(family)
    regulation = current_regulation()
    if regulation is None:
        raise DossierError(_("Aucun règlement n’est publié pour le moment."))
    acceptance, created = RegulationAcceptance.objects.get_or_create(
        family=family, document=regulation,
        defaults={"accepted_by": by, "document_title": regulation.title,
                  "version": regulation.version},
    )
    if created:
        record_action(by, "regulation.accept", family, target=regulation.title,
                      after={"version": regulation.version, "document": regulation.pk})
        refresh_status(family)
    return acceptance


@transaction.atomic
def accept_item(item, *, by):
    item = FileItem.objects.select_for_update().select_related("family", "requirement").get(
        pk=item.pk)
    if item.state != FileItem.State.SENT:
        raise DossierError(_("Seule une pièce envoyée et en attente peut être acceptée."))
    item.state = FileItem.State.ACCEPTED
    item.reviewed_at = timezone.now()
    item.reviewed_by = by
    item.save(update_fields=["state", "reviewed_at", "reviewed_by"])
    record_action(by, "file.accept", item.family, target=item.requirement.name,
                  before={"state": FileItem.State.SENT}, after={"state": item.state})
    _notify_family(item.family, "file_reviewed", {"item": item})
    return item


@transaction.atomic
def refuse_item(item, reason, *, by):
    reason = (reason or "").strip()
    if not reason:
        raise DossierError(_("Indiquez le motif du refus : la famille le verra."))
    item = FileItem.objects.select_for_update().select_related("family", "requirement").get(
        pk=item.pk)
    if item.state not in (FileItem.State.SENT, FileItem.State.ACCEPTED):
        raise DossierError(_("Seule une pièce envoyée peut être refusée."))
    before = item.state
    item.state = FileItem.State.REFUSED
    item.refusal_reason = reason
    item.reviewed_at = timezone.now()
    item.reviewed_by = by
    item.save(update_fields=["state", "refusal_reason", "reviewed_at", "reviewed_by"])
    family = _locked_family(item.family)
    record_action(by, "file.refuse", family, target=item.requirement.name,
                  before={"state": before}, after={"state": item.state, "reason": reason})
    # A refused piece reopens the file, even for a family validated earlier.
    if family.status in (Family.Status.SUBMITTED, Family.Status.VALIDATED):
        family.status = Family.Status.INCOMPLETE
        family.save(update_fields=["status", "updated_at"])
    _notify_family(family, "file_reviewed", {"item": item})
    return item


def _notify_family(family, template, context):
    notify.notify(family, notify.Kind.FILE, template,
                  {"url": absolute_url(reverse("portal:dossier")), **context})


@transaction.atomic
def validate_family(family, *, by):
    family = _locked_family(family)
    if family.status not in (Family.Status.INCOMPLETE, Family.Status.SUBMITTED):
        raise DossierError(_("Seul un dossier incomplet ou envoyé peut être validé (état "
                             "actuel : %(status)s).") % {"status": family.get_status_display()})
    if not Child.objects.filter(Child.of_household(family.pk)).exists():
        raise DossierError(_("La famille n’a déclaré aucun enfant."))
    pending = [line.requirement.name for line in dossier_lines(family) if not line.is_done]
    if pending:
        raise DossierError(_("Ces pièces ne sont pas encore acceptées : %(names)s.")
                           % {"names": ", ".join(pending)})
    before = family.status
    family.status = Family.Status.VALIDATED
    family.save(update_fields=["status", "updated_at"])
    # Validating the file reviews every child's sheet in it (a shared child's sheet is kept,
    # and reviewed, with its first family's file).
    family.children.filter(reviewed_at__isnull=True).update(reviewed_at=timezone.now())
    record_action(by, "family.validate", family, target=family,
                  before={"status": before}, after={"status": family.status})
    _notify_family(family, "family_validated", {})
    return family


@transaction.atomic
def suspend_family(family, reason, *, by):
    reason = (reason or "").strip()
    if not reason:
        raise DossierError(_("Indiquez le motif de la suspension."))
    family = _locked_family(family)
    if family.status == Family.Status.SUSPENDED:
        raise DossierError(_("Cette famille est déjà suspendue."))
    before = family.status
    family.status = Family.Status.SUSPENDED
    family.save(update_fields=["status", "updated_at"])
    record_action(by, "family.suspend", family, target=family,
                  before={"status": before}, after={"status": family.status, "reason": reason})
    return family


@transaction.atomic
def reactivate_family(family, *, by):
    """Lift a suspension; the family goes back to a file state agents must validate again."""
    family = _locked_family(family)
    if family.status != Family.Status.SUSPENDED:
        raise DossierError(_("Cette famille n’est pas suspendue."))
    family.status = Family.Status.INCOMPLETE
    family.save(update_fields=["status", "updated_at"])
    refresh_status(family)
    record_action(by, "family.reactivate", family, target=family,
                  before={"status": Family.Status.SUSPENDED}, after={"status": family.status})
    return family


def bracket_for_quotient(quotient):
    """The tariff bracket whose range holds this quotient familial, or None."""
    return (TariffBracket.objects.filter(quotient_min__lte=quotient)
            .filter(Q(quotient_max__isnull=True) | Q(quotient_max__gte=quotient))
            .order_by("-quotient_min").first())


@transaction.atomic
def update_family(family, data, *, by, fields=None, by_agent=False):
    """Apply edited values (a dict, as a form cleans them) to the family and log what changed.
    Only agents set the tariff: bracket, quotient familial, its proof and date; a quotient
    without a bracket chooses the bracket whose range holds it."""
    allowed = FAMILY_EDIT_FIELDS + (TARIFF_FIELDS if by_agent else ())
    fields = [f for f in (fields or list(data)) if f in allowed]
    family = _locked_family(family)
    if not by_agent:
        _editable(family)
    before = snapshot(family, fields)
    for name in fields:
        value = data[name]
        if name == "quotient_document" and hasattr(value, "content_type"):
            validate_upload(value)
            value.name = f"quotient-famille-{family.pk}{os.path.splitext(value.name)[1].lower()}"
        Family._meta.get_field(name).save_form_data(family, value)
    if "tariff_bracket" in fields and not data["tariff_bracket"] and family.quotient is not None:
        family.tariff_bracket = bracket_for_quotient(family.quotient)
        if family.tariff_bracket is None:
            raise DossierError(_("Aucune tranche tarifaire ne correspond au quotient %(q)s : "
                                 "choisissez la tranche.") % {"q": family.quotient})
    family.full_clean()
    family.save()
    old, new = changed(before, snapshot(family, fields))
    if new:
        record_action(by, "family.edit", family, target=family, before=old, after=new)
    return family


@transaction.atomic
def save_child(child, *, by, pai_upload=None, by_agent=False):
    """Create or edit a child (the instance carries the new values) and log what changed."""
    family = _locked_family(child.family)
    if not by_agent:
        _editable(family)
    if pai_upload is not None:
        validate_upload(pai_upload)
    creating = child.pk is None
    stored = None if creating else Child.objects.get(pk=child.pk)
    before = {} if creating else snapshot(stored, CHILD_FIELDS)
    if pai_upload is not None:
        extension = os.path.splitext(pai_upload.name)[1].lower()
        child.pai_document.save(f"pai-famille-{family.pk}{extension}", pai_upload, save=False)
    if creating and not by_agent and family.status == Family.Status.VALIDATED:
        # Added after the family's review: waits for an agent (health data, PAI) before any
        # booking; the family's other children stay bookable.
        child.reviewed_at = None
    child.full_clean()
    child.save()
    old, new = changed(before, snapshot(child, CHILD_FIELDS))
    if new:
        record_action(by, "child.create" if creating else "child.edit", family, target=child,
                      before=old, after=new)
    if "other_family" in new:
        # In the journal of each household concerned too: the one attached and the one detached.
        detached = stored.other_family if stored is not None else None
        for other in (child.other_family, detached):
            if other is not None:
                record_action(by, "child.second_household", other, target=child,
                              before={"other_family": old.get("other_family", "")},
                              after={"other_family": new["other_family"]})
    if creating:
        refresh_status(family)
    return child


@transaction.atomic
def review_child(child, *, by):
    """An agent has checked the sheet of a child added after the family's validation."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    if child.reviewed_at is not None:
        raise DossierError(_("La fiche de %(name)s est déjà vérifiée.") % {"name": child.first_name})
    child.reviewed_at = timezone.now()
    child.save(update_fields=["reviewed_at"])
    record_action(by, "child.review", child.family, target=child)
    return child


def receipt_pdf(acceptance):
    """The récépissé: proof of who accepted which regulation version, and when."""
    town = town_settings()
    header = (town.receipt_header if town else "") or ""
    accepted_at = timezone.localtime(acceptance.accepted_at)
    sections = [
        (_("Famille"), [acceptance.family.name]),
        (_("Règlement accepté"), [
            acceptance.document_title,
            _("Version : %(version)s") % {"version": acceptance.version or "—"},
        ]),
        (_("Acceptation"), [
            _("Accepté par %(who)s (%(email)s) le %(date)s à %(time)s.") % {
                "who": acceptance.accepted_by.get_full_name() or acceptance.accepted_by.email,
                "email": acceptance.accepted_by.email,
                "date": date_format(accepted_at, "j F Y"),
                "time": date_format(accepted_at, "H:i")},
            _("Récépissé n° %(number)s") % {"number": f"R{acceptance.pk:06d}"},
        ]),
    ]
    if header:
        sections.insert(0, (_("Émis par"), header.splitlines()))
    # reportlab paragraphs read markup: names typed by families must not be taken for tags.
    sections = [(escape(h), [escape(p) for p in ps]) for h, ps in sections]
    return simple_pdf(_("Récépissé d’acceptation du règlement"), sections,
                      author=town.town_name if town else "Préau")
