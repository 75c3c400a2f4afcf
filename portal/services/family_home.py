"""The family dashboard: the coming week of each child at a glance, and what needs doing
(file pieces, the regulation, a booking deadline coming with nothing booked, a low balance)."""

import datetime
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import FileItem, FileRequirement

from . import deadlines, dossier, planning_states

# A booking deadline closer than this with nothing booked that week is worth a reminder.
DEADLINE_NOTICE = datetime.timedelta(days=7)
BOOKED = frozenset({"booked", "locked"})
# A week the child's other household has booked needs no reminder from this one.
TAKEN = BOOKED | {"other_household"}
BOOKABLE = frozenset({"available", "no_ticket"})


@dataclass
class Todo:
    kind: str  # "regulation", "file", "deadline" or "balance": the dashboard links each kind
    text: str
    requirement_id: int | None = None
    child_id: int | None = None
    week: datetime.date | None = None
    ticket_type_id: int | None = None


@dataclass
class GlanceDay:
    day: datetime.date
    booked: list = field(default_factory=list)  # names of the services booked that day
    closed: str = ""  # why no service runs, when none does


@dataclass
class Glance:
    child: object
    days: list


def glance_monday(today):
    """The school week a parent means by "this week": the current one, or the next from Saturday."""
    monday = planning_states.monday_of(today)
    return monday + datetime.timedelta(days=7) if today.weekday() >= 5 else monday


def family_weeks(children, today, now):
    """Day states of the glance week and the week after, for every child, in one call."""
    monday = glance_monday(today)
    days = planning_states.week_days(monday) + planning_states.week_days(monday + datetime.timedelta(days=7))
    return planning_states.day_states(children, days, now=now)


def week_glance(planning):
    """Per child, the first five days of `planning`: what is booked, or why nothing runs."""
    glances = []
    for row in planning.rows:
        days = []
        for day in planning.days[:5]:
            cells = row.cells_for(day)
            booked = [c.service.name for c in cells if c.state in BOOKED]
            closed = ""
            if not booked and cells and all(c.state in ("holiday", "closed", "not_offered") for c in cells):
                reason = next((c.reason for c in cells if c.reason), "")
                closed = reason or str(planning_states.STATE_LABELS["closed"])
            elif not booked and any(c.state == "other_household" for c in cells):
                closed = str(planning_states.STATE_LABELS["other_household"])
            days.append(GlanceDay(day, booked, closed))
        glances.append(Glance(row.child, days))
    return glances


def renewal_lines(family):
    """The pieces of a school year after the current one that the family has still to send
    (the rollover asked for them), as dossier lines; no query unless such a year exists and
    its file is not renewed (the planning's cached file status says so)."""
    if not planning_states.family_file_status(family).get("unrenewed"):
        return []
    return [line for year, renewed in dossier.renewed_years(family) if not renewed
            for line in dossier.dossier_lines(family, year)
            if line.needs_action and line.requirement.kind == FileRequirement.Kind.UPLOAD]


def family_todo(lines, planning, now, renewals=()):
    """What the family should do next, most pressing first. `lines` are dossier.dossier_lines,
    `planning` the two weeks of family_weeks (with the balances of the ticket types its
    children's services use), `renewals` the next year's pieces still to send (renewal_lines)."""
    todo = []
    for line in lines:
        if not line.needs_action:
            continue
        if line.requirement.kind == FileRequirement.Kind.REGULATION:
            todo.append(Todo("regulation", _("Lire et accepter le règlement en vigueur.")))
        elif line.state == FileItem.State.REFUSED:
            todo.append(Todo("file", _("Renvoyer : %(name)s (refusé).") % {"name": line.requirement.name},
                             requirement_id=line.requirement.pk))
        else:
            todo.append(Todo("file", _("Envoyer : %(name)s.") % {"name": line.requirement.name},
                             requirement_id=line.requirement.pk))
    for line in renewals:
        todo.append(Todo("file", _("Pour réserver l’année %(year)s, renvoyez : %(name)s.") % {
            "year": line.requirement.school_year.name, "name": line.requirement.name},
            requirement_id=line.requirement.pk))
    for row in planning.rows:
        for start in range(0, len(planning.days), 5):
            week = planning.days[start:start + 5]
            cells = [c for day in week for c in row.cells_for(day)]
            if any(c.state in TAKEN for c in cells):
                continue
            limits = [deadlines.deadline(deadlines.booking_rule(c.service), c.day) for c in cells
                      if c.state in BOOKABLE]
            if not limits or min(limits) - now > DEADLINE_NOTICE:
                continue
            limit = min(limits).astimezone(deadlines.PARIS)
            todo.append(Todo("deadline", _(
                "Rien n’est réservé pour %(child)s la semaine du %(week)s : réservez avant le "
                "%(limit)s.") % {"child": row.child.first_name,
                                  "week": formats.date_format(week[0], "j F"),
                                  "limit": formats.date_format(limit, "l j F à H:i")},
                child_id=row.child.pk, week=week[0]))
    for ticket_type in planning.ticket_types:
        # Under the ticket type's alert threshold (the one of the e-mail alerts), or none left.
        n = planning.balances.get(ticket_type.pk, 0)
        if n and n >= ticket_type.low_balance_threshold:
            continue
        if n == 0:
            text = _("Aucun ticket %(type)s : achetez-en pour réserver.") % {"type": ticket_type.name}
        else:
            text = ngettext("Plus qu’un ticket %(type)s : pensez à en acheter.",
                            "Plus que %(n)s tickets %(type)s : pensez à en acheter.", n) % {
                "n": n, "type": ticket_type.name}
        todo.append(Todo("balance", text, ticket_type_id=ticket_type.pk))
    return todo
