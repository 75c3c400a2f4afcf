"""The school-year rollover: the agent's assistant previews, then applies, the passage to the
next school year.

`preview()` computes a Plan without writing anything; `apply()` computes the same Plan under a
lock and carries out exactly that, so what the agent confirmed is what happens. Every step only
does what is not done yet (a year, closure, requirement or file item that exists is kept; a child
whose class is already for the new year is not moved again): a second run changes nothing.
Which services are carried on is the agent's choice, part of the plan (see _service_choices).
The rule that a family whose file is not renewed cannot book the new year's days is not here:
it is dossier.bookings_open_q for that year, read by planning_states.day_rules.
"""

import dataclasses
import datetime
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_tasks import task

from portal.cache import display_cache
from portal.models import (
    AuditLog,
    Booking,
    Child,
    Closure,
    Family,
    FileItem,
    FileRequirement,
    OutgoingEmail,
    School,
    SchoolYear,
    Service,
)
from portal.models.family import DEFAULT_CLASS_MAP

from . import closures, deadlines, dossier
from .audit import record_action

ACTION = "year.rollover"
RENEWAL_ACTION = "year.renewal"  # the families asked to renew their file (send_renewal_requests)
# A service whose period ends this close to the year's last day runs every school year: it is
# proposed (ticked) to be carried on to the new year's last day.
SERVICE_END_SLACK = datetime.timedelta(days=31)
ARROW = re.compile(r"\s*(?:→|->|>|:)\s*")


class RolloverError(Exception):
    """A refusal with a message for the agent."""


class PlanChanged(Exception):
    """The plan computed under the lock is not the one the agent previewed: nothing applied."""

    def __init__(self, plan):
        super().__init__("plan changed")
        self.plan = plan


def normalise_class(name):
    return " ".join((name or "").split()).upper()


def parse_class_map(text):
    """{class: next class} from lines « CP → CE1 »; an empty next class (« CM2 → ») means the
    child leaves the school. Raises RolloverError on a line it cannot read."""
    mapping = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = ARROW.split(line.strip(), maxsplit=1)
        if len(parts) != 2 or not parts[0]:
            raise RolloverError(_("Ligne %(n)d : écrivez « classe → classe suivante » (ex. « CP → CE1 »), "
                                  "ou « CM2 → » quand l’enfant quitte l’école.") % {"n": number})
        mapping[normalise_class(parts[0])] = " ".join(parts[1].split())
    return mapping


def school_class_map(school):
    return parse_class_map(school.class_map or DEFAULT_CLASS_MAP)


def suggested_year(zone, source):
    """(name, first day, last day) of the school year after `source`, from the zone's official
    holidays (the end of the summer holidays after it, the start of the next ones)."""
    summers = [(first, last) for name, first, last in deadlines.school_holidays(
        zone, source.end, source.end + datetime.timedelta(days=430)) if "été" in name.lower()]
    start = summers[0][1] + datetime.timedelta(days=1) if summers else datetime.date(source.end.year, 9, 1)
    later = [first for first, _last in summers if first > start]
    end = later[0] - datetime.timedelta(days=1) if later else datetime.date(start.year + 1, 7, 4)
    return f"{start.year}-{start.year + 1}", start, end


@dataclass(frozen=True)
class ClassMove:
    child_id: int
    child: str
    school: str
    from_class: str
    to_class: str  # "" for a child leaving the school
    leaving: bool


@dataclass(frozen=True)
class ServiceChoice:
    """A service the rollover may carry on to the new year's last day, and the agent's choice."""

    service_id: int
    name: str
    end: datetime.date  # its last day before the rollover
    usual: bool  # ends with the year (SERVICE_END_SLACK), not stopped earlier in it
    carried: bool  # extended to the new year's end; else left to end on its day


@dataclass
class Plan:
    """What the rollover does (preview) or did (apply): the same object for both."""

    name: str
    start: datetime.date
    end: datetime.date
    zone: str
    source: str  # the school year rolled over
    year_exists: bool
    closures: list = field(default_factory=list)  # [(reason, first, last)] created
    cancelled_bookings: int = 0  # booked days those closures cancel
    service_choices: list = field(default_factory=list)  # [ServiceChoice] offered, and chosen
    running: list = field(default_factory=list)  # [(name, last day)] open into the new year already
    requirements: list = field(default_factory=list)  # [(name, renew_yearly)] created
    to_renew: dict = field(default_factory=dict)  # {requirement name: families asked again}
    carried: dict = field(default_factory=dict)  # {requirement name: families' pieces kept}
    moves: list = field(default_factory=list)  # [ClassMove], leaving children included
    unknown: list = field(default_factory=list)  # [ClassMove] whose class is not in the map
    regulation: str = ""  # the regulation in force, which every family must have accepted
    families_to_accept: int = 0
    announce: bool = False  # the families are e-mailed about the regulation now

    @property
    def services(self):
        """[(name, old last day)] carried on to `end`."""
        return [(c.name, c.end) for c in self.service_choices if c.carried]

    @property
    def services_left(self):
        """[(name, last day)] offered and not chosen: they end on their day."""
        return [(c.name, c.end) for c in self.service_choices if not c.carried]

    @property
    def service_groups(self):
        """[(usual, [ServiceChoice])]: those ending with the year first, then those stopped
        earlier in it; a group without a service is left out."""
        groups = [(usual, [c for c in self.service_choices if c.usual == usual]) for usual in (True, False)]
        return [(usual, choices) for usual, choices in groups if choices]

    @property
    def leaving(self):
        return [m for m in self.moves if m.leaving]

    @property
    def is_empty(self):
        return self.year_exists and not (
            self.closures or self.services or self.requirements or any(self.to_renew.values())
            or any(self.carried.values()) or self.moves or self.announce)

    def fingerprint(self):
        """A short digest of everything the plan does, for the preview's apply button."""
        return hashlib.sha256(repr(dataclasses.astuple(self)).encode()).hexdigest()[:32]

    def move_groups(self):
        """[(school, from class, to class, leaving, [children names])], in the list's order."""
        groups = {}
        for move in self.moves:
            key = (move.school, move.from_class, move.to_class, move.leaving)
            groups.setdefault(key, []).append(move.child)
        return [(*key, names) for key, names in groups.items()]

    def summary(self):
        """The counts kept in the audit log (no names: the journal keeps the action)."""
        return {"year": self.name, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "year_created": not self.year_exists, "closures": len(self.closures),
                "cancelled_bookings": self.cancelled_bookings,
                "services": [name for name, _end in self.services],
                "services_left": [name for name, _end in self.services_left],
                "requirements": [name for name, _renew in self.requirements],
                "to_renew": sum(self.to_renew.values()), "carried": sum(self.carried.values()),
                "moved": len(self.moves) - len(self.leaving), "leaving": len(self.leaving),
                "unknown_class": len(self.unknown), "regulation": self.regulation,
                "families_to_accept": self.families_to_accept}


def _source_and_target(name, start, end):
    name = (name or "").strip()
    target = SchoolYear.objects.filter(name=name).first()
    if target is not None:
        start, end = target.start, target.end
    if not name:
        raise RolloverError(_("Indiquez le nom de la nouvelle année scolaire (ex. 2027-2028)."))
    if not (start and end) or end <= start:
        raise RolloverError(_("La fin des cours doit suivre la rentrée."))
    years = SchoolYear.objects.filter(start__lt=start).order_by("-start")
    source = years.first()
    if source is None:
        raise RolloverError(_("Aucune année scolaire ne précède le %(date)s : créez d’abord l’année en "
                              "cours.") % {"date": date_format(start, "j F Y")})
    if target is None and start <= source.end:
        raise RolloverError(_("La rentrée doit suivre la fin de l’année %(year)s (%(date)s).")
                            % {"year": source.name, "date": date_format(source.end, "j F Y")})
    if target is None and SchoolYear.objects.filter(start__gte=start).exists():
        raise RolloverError(_("Une année scolaire commence déjà après cette rentrée."))
    if target is not None and SchoolYear.objects.filter(start__gt=target.start).exists():
        raise RolloverError(_("L’année %(year)s n’est pas la dernière : le passage se fait vers "
                              "l’année suivante.") % {"year": target.name})
    # A year entered by hand and already begun: its children are in their classes already.
    if (target is not None and target.start <= timezone.localdate()
            and not AuditLog.objects.filter(action=ACTION, target=target.name).exists()):
        raise RolloverError(_("L’année %(year)s a déjà commencé : le passage de classe se prépare "
                              "avant la rentrée.") % {"year": target.name})
    return name, start, end, source, target


def preview(name, start, end, zone, carry=None):
    """The Plan of rolling over to the school year `name` (start, end), in a fixed number of
    queries whatever the number of families and children. `carry`: the ids of the services the
    agent chose to carry on (None: the default choice, see _service_choices)."""
    name, start, end, source, target = _source_and_target(name, start, end)
    plan = Plan(name=name, start=start, end=end, zone=zone, source=source.name,
                year_exists=target is not None)
    # The first rollover to this year, if any: later runs only finish what it left.
    first_run = None
    if target is not None:
        first_run = (AuditLog.objects.filter(action=ACTION, target=target.name)
                     .order_by("created_at").values_list("created_at", flat=True).first())

    # Closures: the zone's school holidays within the new year, those not entered yet.
    existing = set(Closure.objects.filter(kind=Closure.Kind.SCHOOL_HOLIDAY, school=None, service=None,
                                          start__lte=end, end__gte=start)
                   .values_list("start", "end"))
    plan.closures = [(reason, first, last)
                     for reason, first, last in deadlines.school_holidays(zone, start, end)
                     if (first, last) not in existing]
    if plan.closures:
        days = Q()
        for _reason, first, last in plan.closures:
            days |= Q(date__range=(first, last))
        plan.cancelled_bookings = Booking.objects.filter(days, status=Booking.Status.ACTIVE).count()

    plan.service_choices, plan.running = _service_choices(source, start, carry,
                                                          first_run=first_run is not None)

    # File requirements and the families' pieces.
    source_reqs = list(source.file_requirements.all())
    target_reqs = {r.name: r for r in target.file_requirements.all()} if target else {}
    plan.requirements = [(r.name, r.renew_yearly) for r in source_reqs if r.name not in target_reqs]
    for kind, names in _pieces(source_reqs, target_reqs).items():
        counts = plan.to_renew if kind == "renew" else plan.carried
        for requirement_name, rows in names.items():
            counts[requirement_name] = len(rows)

    plan.moves, plan.unknown = _class_moves(target, first_run)

    regulation = dossier.current_regulation()
    if regulation is not None:
        plan.regulation = (f"{regulation.title} ({regulation.version})" if regulation.version
                           else regulation.title)
        plan.families_to_accept = (Family.objects.exclude(status=Family.Status.SUSPENDED)
                                   .exclude(regulation_acceptances__document=regulation).count())
        plan.announce = not AuditLog.objects.filter(action="regulation.announce",
                                                    target=str(regulation.pk)).exists()
    return plan


def _service_choices(source, start, carry, *, first_run):
    """([ServiceChoice], [(name, last day)] of the services open into the new year already).

    Offered: the services that end after the source year's first day and before the new year's:
    those ending with the year (within SERVICE_END_SLACK of its last day, or in the summer) are
    ticked by default, those the town stopped earlier in the year are shown unticked. A service
    that ended before the source year began is not offered (create it again if it comes back).
    After a first rollover to this year nothing is ticked by default: what it left to end stays
    ended unless the agent ticks it now. `carry` (ids) replaces the default; an id that is not
    offered is refused (RolloverError), one open into the new year already has nothing to do."""
    services = list(Service.objects.filter(end__gte=source.start).order_by("order", "name", "pk")
                    .values_list("pk", "name", "end"))
    running = [(name, last) for pk, name, last in services if last >= start]
    offered = [(pk, name, last) for pk, name, last in services if last < start]
    if carry is not None:
        unknown = set(carry) - {pk for pk, _name, _last in services}
        if unknown:
            raise RolloverError(_("Prestation inconnue ou qui n’est pas à reprendre dans ce passage "
                                  "(n° %(ids)s) : revoyez l’aperçu.")
                                % {"ids": ", ".join(str(pk) for pk in sorted(unknown))})
    choices = []
    for pk, name, last in offered:
        usual = last >= source.end - SERVICE_END_SLACK
        carried = (usual and not first_run) if carry is None else pk in carry
        choices.append(ServiceChoice(pk, name, last, usual, carried))
    return choices, running


ITEM_FIELDS = ("family_id", "requirement_id", "state", "file", "original_name", "content_type",
               "submitted_at", "submitted_by_id", "reviewed_at", "reviewed_by_id")


def _pieces(source_reqs, target_reqs):
    """{"renew"|"carry": {requirement name: [source item's values]}}: the pieces to ask again
    (renew_yearly) and those kept from last year (accepted or waiting for review), for families
    that have nothing yet for the new year's requirement of the same name. Plain values, not
    instances: a big town has hundreds of thousands."""
    uploads = [r for r in source_reqs if r.kind == FileRequirement.Kind.UPLOAD]
    if not uploads:
        return {}
    already = set(FileItem.objects.filter(requirement__in=list(target_reqs.values()))
                  .values_list("family_id", "requirement__name"))
    by_id = {r.pk: r for r in uploads}
    result = {"renew": defaultdict(list), "carry": defaultdict(list)}
    items = (FileItem.objects.filter(requirement__in=uploads)
             .exclude(state=FileItem.State.MISSING).order_by("family_id", "pk").values(*ITEM_FIELDS))
    for item in items:
        requirement = by_id[item["requirement_id"]]
        if (item["family_id"], requirement.name) in already:
            continue
        renew = target_reqs[requirement.name].renew_yearly if requirement.name in target_reqs \
            else requirement.renew_yearly
        if renew:
            result["renew"][requirement.name].append(item)
        elif item["state"] in (FileItem.State.ACCEPTED, FileItem.State.SENT):
            result["carry"][requirement.name].append(item)
    return {kind: dict(names) for kind, names in result.items()}


def _class_moves(target, first_run):
    """The children to move to their next class (or to mark as leaving), and those whose class
    the school's map does not know (left as they are, for the agent to correct). `first_run`:
    when the first rollover to `target` was applied, or None."""
    children = Child.objects.filter(leaves_on__isnull=True).order_by(
        "school__name", "school_class", "last_name", "first_name", "pk")
    if target is not None:
        children = children.exclude(class_year=target)
    if first_run is not None:  # a child added after the rollover is declared in its new class
        children = children.filter(created_at__lt=first_run)
    schools = {school.pk: (school.name, school_class_map(school)) for school in School.objects.all()}
    moves, unknown = [], []
    for pk, first, last, school_id, school_class in children.values_list(
            "pk", "first_name", "last_name", "school_id", "school_class"):
        school, mapping = schools[school_id]
        current = normalise_class(school_class)
        move = ClassMove(pk, f"{first} {last}", school, school_class, mapping.get(current, ""),
                         mapping.get(current) == "")
        (moves if current in mapping else unknown).append(move)
    return moves, unknown


def apply(name, start, end, zone, *, by, expected=None, carry=None):
    """Carry out the rollover's Plan (the one preview() shows for the same `carry`) and return
    it. `expected`: the fingerprint of the plan the agent saw, its choice of services included;
    if the plan is no longer that one, PlanChanged and nothing is done."""
    with transaction.atomic():
        # One rollover at a time: the school years' rows are locked first (a handful).
        list(SchoolYear.objects.select_for_update().order_by("pk"))
        plan = preview(name, start, end, zone, carry)
        if expected and plan.fingerprint() != expected:
            raise PlanChanged(plan)
        if plan.is_empty:
            return plan
        target, _created = SchoolYear.objects.get_or_create(
            name=plan.name, defaults={"start": plan.start, "end": plan.end})
        source = SchoolYear.objects.get(name=plan.source)

        for reason, first, last in plan.closures:
            closure = Closure.objects.create(kind=Closure.Kind.SCHOOL_HOLIDAY, reason=reason,
                                             start=first, end=last)
            closures.apply_closure(closure, by=by)

        carried = [c.service_id for c in plan.service_choices if c.carried]
        for service in Service.objects.filter(pk__in=carried).order_by("pk"):
            service.end = plan.end
            service.save(update_fields=["end"])

        source_reqs = list(source.file_requirements.all())
        existing = {r.name for r in target.file_requirements.all()}
        FileRequirement.objects.bulk_create([
            FileRequirement(school_year=target, name=r.name, help_text=r.help_text, kind=r.kind,
                            sort_order=r.sort_order, renew_yearly=r.renew_yearly)
            for r in source_reqs if r.name not in existing])
        target_reqs = {r.name: r for r in target.file_requirements.all()}
        new_items = []
        for kind, names in _pieces(source_reqs, target_reqs).items():
            for requirement_name, rows in names.items():
                requirement = target_reqs[requirement_name]
                for item in rows:
                    if kind == "renew":
                        new_items.append(FileItem(family_id=item["family_id"], requirement=requirement,
                                                  state=FileItem.State.RENEW))
                    else:  # the same file: dossier.submit_file deletes a file no other piece uses
                        new_items.append(FileItem(**{**item, "requirement_id": requirement.pk}))
        FileItem.objects.bulk_create(new_items, batch_size=1000)

        groups = defaultdict(list)
        for move in plan.moves:
            groups[(move.to_class, move.leaving)].append(move.child_id)
        for (to_class, leaving), ids in groups.items():
            changes = {"class_year": target}
            if leaving:
                changes["leaves_on"] = target.start
            else:
                changes["school_class"] = to_class
            Child.objects.filter(pk__in=ids).update(**changes)

        record_action(by, ACTION, target=plan.name, after=plan.summary())
        # Queryset updates and bulk inserts send no signals: every cached page is stale.
        transaction.on_commit(display_cache.bump_everything)
        # The families are e-mailed by the worker (a big town has tens of thousands): if this
        # enqueue fails, the hourly run (send_notifications) finds the year still to announce.
        transaction.on_commit(send_renewal_requests.enqueue, robust=True)
    return plan


def pending_renewals():
    """The school years after the current one that a rollover prepared and whose families were
    not asked yet to renew their file (send_renewal_requests did not run, or its task was lost)."""
    return dossier.renewal_years().filter(
        name__in=AuditLog.objects.filter(action=ACTION).values("target")).exclude(
        name__in=AuditLog.objects.filter(action=RENEWAL_ACTION).values("target"))


def renewal_delivery(entry):
    """What became of the e-mails the renewal run logged by `entry` (a RENEWAL_ACTION entry)
    queued, for the assistant's page to say what really happened: {"sent", "pending",
    "failed"}. The messages waiting for the mail server or failed are counted (they are kept
    until sent); the others queued were sent (a sent message's record may already be deleted,
    PREAU_RETENTION_EMAIL_DAYS). The run's messages are the renewal requests written between the
    year's apply and its log entry. One query."""
    applied = (AuditLog.objects.filter(action=ACTION, target=entry.target, created_at__lte=entry.created_at)
               .order_by("-created_at").values("created_at")[:1])
    counts = dict(OutgoingEmail.objects.filter(
        template="renewal_requested", created_at__gte=Subquery(applied), created_at__lte=entry.created_at,
        status__in=[OutgoingEmail.Status.PENDING, OutgoingEmail.Status.FAILED],
    ).values_list("status").annotate(n=Count("pk")).order_by())
    pending = counts.get(OutgoingEmail.Status.PENDING, 0)
    failed = counts.get(OutgoingEmail.Status.FAILED, 0)
    queued = (entry.after or {}).get("sent", 0)
    return {"sent": max(queued - pending - failed, 0), "pending": pending, "failed": failed}


@task()
def send_renewal_requests():
    """For each pending_renewals() year: one e-mail per household whose file for it is not
    complete (dossier.ask_to_renew: pieces, regulation, deadline, link), then the regulation's
    announcement, if not made yet, to the families that message does not reach: one e-mail per
    family for a rollover. Enqueued when an apply commits, and by the hourly run for a year whose
    task was lost; notify's keys tell each household once whatever the number of runs. Returns
    how many messages were queued."""
    sent = 0
    for year in pending_renewals():
        asked, queued = dossier.ask_to_renew(year)
        regulation = dossier.current_regulation()
        if regulation is not None:
            dossier.announce_regulation(regulation, told=asked)
        record_action(None, RENEWAL_ACTION, target=year.name,
                      after={"families": len(asked), "sent": queued})
        sent += queued
    return sent

