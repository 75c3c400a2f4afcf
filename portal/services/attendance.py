"""The town's day: who is booked where (day lists), how many meals to order (caterer), who may
see which list (staff scope). Every page, export and the admin dashboard call these functions;
each reads a constant number of queries whatever the number of children."""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Sum, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import (
    AbsenceReport,
    AttendanceMark,
    AuthorisedPerson,
    Booking,
    Child,
    Family,
    FileItem,
    LedgerEntry,
    Purchase,
    RollCall,
    School,
    Service,
    TicketDebt,
    Wallet,
)
from portal.money import euros

from . import audit, deadlines, dossier, family_search, notify
from .wallet import apply_entry, lock_wallet

# Animateurs see today's lists and the next two days' (to prepare them), no further.
STAFF_DAYS_AHEAD = 2
LOW_BALANCE = 2
CLASS_ORDER = ["TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]


# Who sees what -------------------------------------------------------------------------------

def sees_all_schools(user):
    return user.is_active and user.has_perm("portal.view_all_schools")


def is_staff_member(user):
    return user.is_active and (user.has_perm("portal.view_day_lists") or sees_all_schools(user))


def staff_schools(user):
    """The schools whose lists a user may open: every school for agents, the assigned ones for
    Animateurs, none for anybody else."""
    if sees_all_schools(user):
        return School.objects.all()
    if is_staff_member(user):
        return School.objects.filter(staff_assignments__user=user)
    return School.objects.none()


def staff_days(user, today=None):
    """The days an Animateur may open (None: any day, for agents)."""
    if sees_all_schools(user):
        return None
    today = today or timezone.localdate()
    return [today + datetime.timedelta(days=i) for i in range(STAFF_DAYS_AHEAD + 1)]


def may_open(user, school, day, today=None):
    days = staff_days(user, today)
    if days is not None and day not in days:
        return False
    return staff_schools(user).filter(pk=school.pk).exists()


def sees_pickup(user):
    return user.has_perm("portal.view_authorisedperson")


def sees_health_detail(user):
    return user.has_perm("portal.view_health_data")


# Day lists ----------------------------------------------------------------------------------

def class_key(name):
    """Classes in school order (PS … CM2), mixed classes (« CE1-CE2 ») by their first level."""
    upper = (name or "").strip().upper()
    first = re.split(r"[\s/-]", upper, maxsplit=1)[0] if upper else ""
    rank = CLASS_ORDER.index(first) if first in CLASS_ORDER else len(CLASS_ORDER)
    return (not upper, rank, upper)


def closed_reason(school, service, day, closures=None):
    """Why this school's service does not run that day (holiday, closure, not a service day),
    else None."""
    if not service.runs_on(day):
        return _("Pas de %(service)s ce jour-là.") % {"service": service.name}
    holiday = deadlines.public_holiday_name(day)
    if holiday:
        return _("Jour férié : %(reason)s.") % {"reason": holiday}
    closures = deadlines.closures_between(day, day) if closures is None else closures
    closure = deadlines.closure_for(closures, school.pk, service.pk, day)
    if closure is not None:
        return _("Fermé : %(reason)s.") % {"reason": closure.reason}
    return None


@dataclass
class ListRow:
    child: Child
    booking: Booking | None = None
    pickup: list = field(default_factory=list)
    mark: AttendanceMark | None = None
    reported: bool = False  # the family reported an absence the agent has not answered yet

    @property
    def unbooked(self):
        return self.booking is None

    @property
    def ref(self):
        """The child's id as text, for the page's ids and forms (an int would go through
        number localisation at each of its uses)."""
        return str(self.child.pk)

    @property
    def diet_label(self):
        return self.child.get_diet_display()


@dataclass
class ClassGroup:
    name: str
    rows: list


@dataclass
class DayList:
    day: datetime.date
    school: School
    service: Service
    closed: str | None
    groups: list
    with_pickup: bool
    with_health: bool
    roll_call: RollCall | None = None

    @property
    def count(self):
        """Booked children (those present without a booking are counted apart)."""
        return sum(1 for g in self.groups for r in g.rows if not r.unbooked)

    @property
    def rows(self):
        return [r for g in self.groups for r in g.rows]

    @property
    def present_count(self):
        return sum(1 for r in self.rows if r.mark is not None and r.mark.present)

    @property
    def absent_count(self):
        return sum(1 for r in self.rows if r.mark is not None and not r.mark.present)

    @property
    def unmarked_count(self):
        return sum(1 for r in self.rows if r.mark is None)

    @property
    def pai_count(self):
        return sum(1 for g in self.groups for r in g.rows if r.child.has_pai)


def _group(rows):
    groups = {}
    for row in rows:
        groups.setdefault((row.child.school_class or "").strip(), []).append(row)
    return [ClassGroup(name or _("Classe non renseignée"), groups[name])
            for name in sorted(groups, key=class_key)]


def day_list(school, service, day, *, with_pickup=False, with_health=False, with_marks=False):
    """The children booked at this school for this service and day, grouped by class. A closed
    day lists nobody (with the reason); a cancelled booking never appears. With the marks: each
    row's roll-call mark, and the children marked present without a booking."""
    closed = closed_reason(school, service, day)
    rows, roll_call = [], None
    if closed is None:
        # A sick-day report waiting for the agent: the staff sees « absence signalée » (in the
        # same query: the list's query count does not move).
        reported = AbsenceReport.objects.filter(child=OuterRef("child"), service=service, date=day,
                                                state=AbsenceReport.State.PENDING)
        bookings = (Booking.objects.filter(service=service, date=day, status=Booking.Status.ACTIVE,
                                           child__school=school)
                    .annotate(reported=Exists(reported))
                    .select_related("child")
                    .order_by("child__last_name", "child__first_name", "child__pk"))
        if with_pickup and service.shows_pickup:
            bookings = bookings.prefetch_related(
                Prefetch("child__authorised_people", queryset=AuthorisedPerson.objects.order_by("name")))
        for booking in bookings:
            pickup = (list(booking.child.authorised_people.all())
                      if with_pickup and service.shows_pickup else [])
            rows.append(ListRow(child=booking.child, booking=booking, pickup=pickup,
                                reported=booking.reported))
        if with_marks:
            roll_call = RollCall.objects.filter(school=school, service=service, date=day).first()
        if roll_call is not None:
            _add_marks(rows, roll_call, with_pickup and service.shows_pickup)
    return DayList(day=day, school=school, service=service, closed=closed, groups=_group(rows),
                   with_pickup=with_pickup and service.shows_pickup, with_health=with_health,
                   roll_call=roll_call)


def _add_marks(rows, roll_call, with_pickup):
    by_child = {row.child.pk: row for row in rows}
    extra = []
    for mark in AttendanceMark.objects.filter(roll_call=roll_call).select_related("child", "changed_by"):
        row = by_child.get(mark.child_id)
        if row is None:
            row = ListRow(child=mark.child)
            extra.append(row)
        row.mark = mark
    if extra and with_pickup:
        prefetch_related_objects([r.child for r in extra], "authorised_people")
        for row in extra:
            row.pickup = list(row.child.authorised_people.all())
    rows.extend(sorted(extra, key=lambda r: (r.child.last_name, r.child.first_name, r.child.pk)))


# Roll-call ---------------------------------------------------------------------------------

class RollCallError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def search_children(school, query, limit=20):
    """Children of the school the query names (two letters at least), to mark one present
    without a booking: compared as the agents' search box does (accents, case, a typo)."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    children = Child.objects.filter(school=school, pk__in=family_search.matching_children(query))
    return list(children.order_by("last_name", "first_name", "pk")[:limit])


def may_mark(user, day, now=None):
    """Marks are taken on the day itself; only an agent fills in a past day's roll-call."""
    today = timezone.localdate(now or timezone.now())
    return day == today or (day < today and sees_all_schools(user))


def _locked_roll_call(school, service, day):
    roll_call, _created = RollCall.objects.get_or_create(school=school, service=service, date=day)
    # Marks and the closing of one roll-call take this lock: no mark slips in after the closing.
    return RollCall.objects.select_for_update().get(pk=roll_call.pk)


def mark_child(school, service, day, child, *, present, by, now=None):
    """Record a child present or absent. Posting the same mark again changes nothing (retry,
    double tap); a different one corrects it, keeping who and when, audit-logged."""
    now = now or timezone.now()
    if child.school_id != school.pk:
        raise RollCallError(_("Cet enfant n’est pas inscrit dans cette école."))
    if not may_mark(by, day, now):
        raise RollCallError(_("L’appel se fait le jour même."))
    if closed_reason(school, service, day) is not None:
        raise RollCallError(_("Pas d’appel ce jour-là : la prestation n’a pas lieu."))
    with transaction.atomic():
        roll_call = _locked_roll_call(school, service, day)
        if roll_call.is_closed:
            raise RollCallError(_("L’appel est clos : demandez à la mairie de le corriger."))
        mark = AttendanceMark.objects.filter(roll_call=roll_call, child=child).first()
        if mark is None:
            booking = Booking.objects.filter(child=child, service=service, date=day,
                                             status=Booking.Status.ACTIVE).first()
            if booking is None and not present:
                return None  # absent and not expected: nothing to record
            return AttendanceMark.objects.create(roll_call=roll_call, child=child, booking=booking,
                                                 present=present, created_at=now, created_by=by,
                                                 changed_at=now, changed_by=by)
        if mark.excused_at is not None and present:
            raise RollCallError(_("Absence excusée par la mairie : demandez-lui de la corriger."))
        if mark.present != present:
            before = {"present": mark.present, "by": str(mark.changed_by), "at": mark.changed_at}
            mark.present, mark.changed_at, mark.changed_by = present, now, by
            mark.save(update_fields=["present", "changed_at", "changed_by"])
            audit.record_action(by, "attendance.correct", child.family,
                                target=mark, before=before, after={"present": present})
        return mark


def _day_label(service, day):
    return _("%(service)s du %(day)s") % {"service": service.name, "day": f"{day:%d/%m/%Y}"}


def _penalty_households(marks, day):
    """The household charged for each child present without a booking: for a child of two
    households, the one that booked the child another service that day (the child was with it),
    else the child's first family. One query, for the shared children only."""
    households = {m.child_id: m.child.family_id for m in marks}
    shared = [m.child_id for m in marks if m.child.other_family_id is not None]
    if shared:
        for child_id, family_id in (Booking.objects.filter(child__in=shared, date=day,
                                                           status=Booking.Status.ACTIVE)
                                    .order_by("-pk").values_list("child_id", "family_id")):
            households[child_id] = family_id  # the first booking made wins (read last)
    return households


def _charge_penalty(mark, family, service, day, tickets, *, by):
    """Debit the penalty from `family`'s wallet, as much as it holds; the rest becomes a debt that
    the next purchase pays back first (wallet.settle_debts)."""
    wallet = lock_wallet(family.pk, service.ticket_type_id)
    taken = min(tickets, wallet.balance)
    if taken:
        apply_entry(wallet, -taken, LedgerEntry.Kind.PENALTY, by=by, attendance=mark,
                    reason=_("Pénalité : présence sans réservation, %(what)s")
                    % {"what": _day_label(service, day)})
    owed = tickets - taken
    if owed:
        TicketDebt.objects.create(wallet_id=wallet.pk, attendance=mark, quantity=owed, remaining=owed)
    mark.penalty = tickets
    mark.save(update_fields=["penalty"])
    audit.record_action(by, "attendance.penalty", family, target=mark,
                        after={"tickets": tickets, "taken": taken, "debt": owed})
    notify.penalty_charged(mark, family, service, day, tickets, taken)


def close_roll_call(school, service, day, *, by, now=None):
    """Close a day's roll-call and apply the regulation: each child present without a booking
    is charged the service's penalty (a debt for what the wallet lacks); a booked child absent
    keeps the ticket spent; excused absences already had their ticket back."""
    now = now or timezone.now()
    if not may_mark(by, day, now):
        raise RollCallError(_("L’appel se clôt le jour même."))
    if closed_reason(school, service, day) is not None:
        raise RollCallError(_("Pas d’appel ce jour-là : la prestation n’a pas lieu."))
    with transaction.atomic():
        roll_call = _locked_roll_call(school, service, day)
        if roll_call.is_closed:
            raise RollCallError(_("L’appel est déjà clos."))
        unbooked = list(AttendanceMark.objects.filter(roll_call=roll_call, present=True, booking=None)
                        .select_related("child__family", "child__other_family").order_by("pk"))
        households = _penalty_households(unbooked, day)
        # Wallets are then locked in family order: two closings never wait on each other.
        unbooked.sort(key=lambda m: (households[m.child_id], m.pk))
        # A booking an agent added after the mark counts: no penalty then.
        booked_since = set(Booking.objects.filter(
            child__in=[m.child_id for m in unbooked], service=service, date=day,
            status=Booking.Status.ACTIVE).values_list("child_id", flat=True))
        charged = 0
        for mark in unbooked:
            if mark.child_id in booked_since or not service.unbooked_penalty:
                continue
            family = (mark.child.family if households[mark.child_id] == mark.child.family_id
                      else mark.child.other_family)
            _charge_penalty(mark, family, service, day, service.unbooked_penalty, by=by)
            charged += 1
        roll_call.closed_at, roll_call.closed_by = now, by
        roll_call.save(update_fields=["closed_at", "closed_by"])
        audit.record_action(by, "rollcall.close", None, target=roll_call, after={"penalties": charged})
    return roll_call, charged


def excuse_absence(child, service, day, *, by, reason, now=None, tell=True):
    """An agent excuses a booked child's absence (e.g. a medical certificate): the ticket is
    given back, once, linked to the roll-call mark. Allowed before or after the closing."""
    now = now or timezone.now()
    if not sees_all_schools(by):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise RollCallError(_("Indiquez le motif (ex. certificat médical)."))
    with transaction.atomic():
        roll_call = _locked_roll_call(child.school, service, day)
        booking = Booking.objects.filter(child=child, service=service, date=day,
                                         status=Booking.Status.ACTIVE).first()
        mark = AttendanceMark.objects.filter(roll_call=roll_call, child=child).first()
        if mark is not None and mark.excused_at is not None:
            return mark  # already excused: the same request again changes nothing
        if booking is None:
            raise RollCallError(_("Cet enfant n’était pas inscrit ce jour-là : pas de ticket à rendre."))
        if mark is not None and mark.present:
            raise RollCallError(_("Cet enfant est pointé présent : corrigez d’abord le pointage."))
        if mark is None:
            mark = AttendanceMark(roll_call=roll_call, child=child, booking=booking, present=False,
                                  created_at=now, created_by=by, changed_at=now, changed_by=by)
        mark.excused_at, mark.excused_by, mark.excuse_reason = now, by, reason[:255]
        mark.save()
        # The ticket goes back to the household that paid for the day.
        wallet = lock_wallet(booking.family_id, service.ticket_type_id)
        # Read again under the wallet's lock: a closure cancelling this day meanwhile has given
        # the ticket back already.
        still = Booking.objects.select_for_update().filter(pk=booking.pk, status=Booking.Status.ACTIVE)
        if not still.exists():
            raise RollCallError(_("Cette réservation vient d’être annulée : pas de ticket à rendre."))
        apply_entry(wallet, 1, LedgerEntry.Kind.EXCUSE, by=by, agent=by, attendance=mark,
                    reason=_("Absence excusée : %(what)s") % {"what": _day_label(service, day)})
        audit.record_action(by, "attendance.excuse", booking.family, target=mark,
                            after={"reason": reason, "tickets": 1})
        if tell:  # a reviewed absence report is told once, by review_absence
            notify.absence_excused(mark, service, day)
    return mark


# Sick child, same morning ---------------------------------------------------------------------

def report_absence(child, service, day, reason, *, by, certificate=None, now=None):
    """A family says a booked child will be (or was) absent today or on a day it can no longer
    cancel; an agent then accepts or refuses. One report per child, service and day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reason = (reason or "").strip()
    if not reason:
        raise RollCallError(_("Indiquez le motif de l’absence."))
    if day < today:
        raise RollCallError(_("Une absence se signale au plus tard le jour même."))
    if deadlines.is_before(deadlines.cancel_rule(service), day, now):
        raise RollCallError(_("Ce jour peut encore être annulé dans le planning : le ticket vous "
                              "est alors rendu sans démarche."))
    # A day the child's other household booked is not this household's to report.
    household = child.household
    if not Booking.objects.filter(child=child, service=service, date=day, family=household,
                                  status=Booking.Status.ACTIVE).exists():
        raise RollCallError(_("Ce jour n’est pas réservé pour cet enfant."))
    content_type = ""
    if certificate is not None:
        try:
            content_type = dossier.validate_upload(certificate)
        except ValidationError as exc:
            raise RollCallError(exc.messages[0]) from None
    try:
        with transaction.atomic():
            report = AbsenceReport.objects.create(child=child, family=household, service=service, date=day,
                                                  reason=reason[:255], created_by=by,
                                                  certificate_type=content_type)
            if certificate is not None:
                report.certificate.save(certificate.name, certificate, save=True)
            audit.record_action(by, "absence.report", household, target=report,
                                after={"reason": reason, "certificate": bool(certificate)})
    except IntegrityError:
        raise RollCallError(_("Une absence est déjà signalée pour cet enfant ce jour-là.")) from None
    return report


def _previous_service_day(service, day):
    """The service day before `day` (skipping the days it does not run and public holidays)."""
    previous = day - datetime.timedelta(days=1)
    for _i in range(14):
        if service.runs_on(previous) and not deadlines.public_holiday_name(previous):
            return previous
        previous -= datetime.timedelta(days=1)
    return None


def refund_due(report):
    """Whether accepting this report gives the ticket back, per the service's rule."""
    if report.service.sick_rule == Service.SickRule.FIRST_DAY:
        return True
    # « From the 2nd day with a certificate »: the service day before was reported absent too.
    previous = _previous_service_day(report.service, report.date)
    earlier = AbsenceReport.objects.filter(child=report.child, service=report.service, date=previous).exclude(
        state=AbsenceReport.State.REFUSED).first()
    return earlier is not None and bool(report.certificate or earlier.certificate)


def review_absence(report, *, accept, by, message="", now=None):
    """An agent accepts (ticket back when the rule says so) or refuses (a message is required)."""
    now = now or timezone.now()
    if not sees_all_schools(by):
        raise PermissionDenied
    message = (message or "").strip()
    if not accept and not message:
        raise RollCallError(_("Expliquez le refus à la famille."))
    with transaction.atomic():
        report = AbsenceReport.objects.select_for_update().select_related("child__school", "family",
                                                                          "service").get(pk=report.pk)
        if report.state != AbsenceReport.State.PENDING:
            raise RollCallError(_("Cette absence a déjà été traitée."))
        refund = accept and refund_due(report)
        if refund:
            excuse_absence(report.child, report.service, report.date, by=by, now=now, tell=False,
                           reason=_("absence signalée : %(reason)s") % {"reason": report.reason})
        elif accept and not message:
            message = _("Absence enregistrée ; selon le règlement, le ticket n’est rendu qu’à partir "
                        "du 2e jour d’absence avec un certificat médical.")
        report.state = AbsenceReport.State.ACCEPTED if accept else AbsenceReport.State.REFUSED
        report.reviewed_at, report.reviewed_by, report.response, report.refunded = now, by, message, refund
        report.save(update_fields=["state", "reviewed_at", "reviewed_by", "response", "refunded"])
        audit.record_action(by, "absence.review", report.family, target=report,
                            after={"state": report.state, "refunded": refund, "message": message})
        notify.absence_reviewed(report)
    return report


def day_list_table(dl):
    """The day list as a header and rows of plain values, for CSV and XLSX exports."""
    header = [_("Classe"), _("Nom"), _("Prénom"), _("PAI"), _("Repas servi")]
    if dl.with_health:
        header.append(_("Allergies et régime"))
    if dl.with_pickup:
        header.append(_("Personnes autorisées"))
    # Labels translated once, not once per row: a school's list has 1,500 rows.
    yes, no = _("oui"), _("non")
    diets = {value: str(label) for value, label in Child.Diet.choices}
    rows = []
    for group in dl.groups:
        for row in group.rows:
            child = row.child
            line = [group.name, child.last_name, child.first_name, yes if child.has_pai else no,
                    diets.get(child.diet, child.diet)]
            if dl.with_health:
                line.append(child.allergies)
            if dl.with_pickup:
                line.append(" ; ".join(f"{p.name} ({p.relationship}) {p.phone}" if p.relationship
                                       else f"{p.name} {p.phone}" for p in row.pickup))
            rows.append(line)
    return header, rows


def to_csv(header, rows):
    out = io.StringIO()
    # Semicolons and a BOM: what a French spreadsheet opens without an import dialog.
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(title, header, rows):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    # Write-only: rows go straight to the file instead of a grid of cell objects in memory.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])  # Excel's limit for a sheet name
    bold = Font(bold=True)
    sheet.append([_bold_cell(sheet, value, bold) for value in header])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bold_cell(sheet, value, font):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=str(value))
    cell.font = font
    return cell


# Counts -------------------------------------------------------------------------------------

def _open_counts(rows, closures):
    """Drop the counts of closed days (a closure added after the bookings were made)."""
    for row in rows:
        if deadlines.public_holiday_name(row["date"]):
            continue
        if deadlines.closure_for(closures, row["school"], row["service"], row["date"]):
            continue
        yield row


def day_counts(day, schools=None):
    """{(school_id, service_id): booked children} for a day, closed days at zero."""
    bookings = Booking.objects.filter(date=day, status=Booking.Status.ACTIVE)
    if schools is not None:
        bookings = bookings.filter(child__school__in=schools)
    rows = (bookings.values("date", "service", school=F("child__school"))
            .annotate(n=Count("pk")).order_by())
    closures = deadlines.closures_between(day, day)
    return {(r["school"], r["service"]): r["n"] for r in _open_counts(rows, closures)}


def school_services(schools):
    """[(school, [services])] for the given schools, services in display order: two queries."""
    schools = list(schools)
    by_school = Service.for_schools([s.pk for s in schools])
    return [(school, by_school[school.pk]) for school in schools]


def meal_days(start, count, limit_days=120):
    """The next `count` days (from start) on which a meal service runs and that are no public
    holiday nor a closure of every school."""
    services = list(Service.objects.filter(is_meal=True, end__gte=start))
    closures = deadlines.closures_between(start, start + datetime.timedelta(days=limit_days))
    days, day = [], start
    while len(days) < count and (day - start).days < limit_days:
        if (any(s.runs_on(day) for s in services) and not deadlines.public_holiday_name(day)
                and not any(c.start <= day <= c.end and c.school_id is None and c.service_id is None
                            for c in closures)):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days, closures


DIET_COLUMNS = [Child.Diet.STANDARD, Child.Diet.VEGETARIAN, Child.Diet.NO_PORK, Child.Diet.PAI_BASKET]


@dataclass
class OrderLine:
    day: datetime.date
    school: School
    by_diet: dict
    pai: int

    @property
    def total(self):
        return sum(self.by_diet.values())

    @property
    def diet_counts(self):
        return [self.by_diet.get(d, 0) for d in DIET_COLUMNS]


def caterer_order(start, count=10, schools=None):
    """Meals per school and day for the next `count` meal days: booked children of the meal
    services, special diets counted apart, closed days left out. Five queries."""
    days, closures = meal_days(start, count)
    schools = list(School.objects.all() if schools is None else schools)
    rows = (Booking.objects.filter(status=Booking.Status.ACTIVE, service__is_meal=True, date__in=days,
                                   child__school__in=schools)
            .values("date", "service", "child__diet", "child__has_pai", school=F("child__school"))
            .annotate(n=Count("pk")).order_by())
    cells = {}
    for row in _open_counts(rows, closures):
        line = cells.setdefault((row["date"], row["school"]), {"diets": {}, "pai": 0})
        line["diets"][row["child__diet"]] = line["diets"].get(row["child__diet"], 0) + row["n"]
        if row["child__has_pai"]:
            line["pai"] += row["n"]
    lines = []
    for day in days:
        for school in schools:
            cell = cells.get((day, school.pk), {"diets": {}, "pai": 0})
            lines.append(OrderLine(day=day, school=school, by_diet=cell["diets"], pai=cell["pai"]))
    return lines


def caterer_table(lines):
    header = [_("Jour"), _("École"), _("Repas"), *[str(d.label) for d in DIET_COLUMNS], _("dont PAI")]
    rows = [[line.day, line.school.name, line.total, *line.diet_counts, line.pai] for line in lines]
    return header, rows


# Dashboard ----------------------------------------------------------------------------------

@dataclass
class Dashboard:
    today: datetime.date
    today_counts: list  # [(school, [(service, n)])]
    next_days: list  # [(day, [(service, n)])]
    services: list
    files_waiting: int
    families_waiting: int
    week_payments: int
    week_cents: int
    low_families: list  # [(family, [(ticket type name, balance)])]
    low_count: int
    absences_waiting: int

    @property
    def week_euros(self):
        return euros(self.week_cents)


def dashboard(today=None):
    """What the agents' admin home shows: today's counts, the next 10 school days' bookings,
    files to review, the week's payments, families at zero or low balance."""
    today = today or timezone.localdate()
    listing = school_services(School.objects.all())
    counts = day_counts(today)
    today_counts = [(school, [(s, counts.get((school.pk, s.pk), 0)) for s in services])
                    for school, services in listing if services]
    days, closures = meal_days(today, 10)
    services = sorted({s for _school, lst in listing for s in lst}, key=lambda s: (s.order, s.name, s.pk))
    rows = (Booking.objects.filter(status=Booking.Status.ACTIVE, date__in=days)
            .values("date", "service", school=F("child__school"))
            .annotate(n=Count("pk")).order_by())
    per_day = {}
    for row in _open_counts(rows, closures):
        key = (row["date"], row["service"])
        per_day[key] = per_day.get(key, 0) + row["n"]
    next_days = [(day, [(s, per_day.get((day, s.pk), 0)) for s in services]) for day in days]
    monday = today - datetime.timedelta(days=today.weekday())
    since = datetime.datetime.combine(monday, datetime.time(0, 0), tzinfo=deadlines.PARIS)
    week = Purchase.objects.filter(state=Purchase.State.PAID, paid_at__gte=since).aggregate(
        n=Count("pk"), cents=Sum("amount_cents"))
    low = (Family.objects.filter(status=Family.Status.VALIDATED)
           .filter(Q(wallets__balance__lte=LOW_BALANCE) | Q(wallets__isnull=True))
           .distinct().order_by("name"))
    return Dashboard(
        today=today, today_counts=today_counts, next_days=next_days, services=services,
        files_waiting=FileItem.objects.filter(state=FileItem.State.SENT).count(),
        families_waiting=Family.objects.filter(status=Family.Status.SUBMITTED).count(),
        week_payments=week["n"] or 0, week_cents=week["cents"] or 0,
        low_families=_with_balances(list(low[:10])), low_count=low.count(),
        absences_waiting=AbsenceReport.objects.filter(state=AbsenceReport.State.PENDING).count(),
    )


def _with_balances(families):
    out = {f.pk: [] for f in families}
    for w in (Wallet.objects.filter(family__in=families).select_related("ticket_type")
              .order_by("ticket_type__name")):
        out[w.family_id].append((w.ticket_type.name, w.balance))
    return [(f, out[f.pk]) for f in families]
