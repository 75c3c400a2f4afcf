"""get_planning, book_day, cancel_booking, preview_pattern, book_pattern: the planning's rules
(portal/services/booking.py, planning_states.py), the same refusal codes as the web page. The
waiting lists of full days: waitlist.py."""

import datetime

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator, model_validator

from portal.models import Child, Service
from portal.services import deadlines, notify, planning_states
from portal.services.access import access_booking
from portal.services.booking import (
    BookingRefused,
    book_day,
    book_pattern,
    cancel_booking,
    final_once_booked,
    pattern_preview,
)

from .auth import AUTH
from .common import (
    ApiError,
    Id,
    check_day,
    check_range,
    family_of,
    monday,
    not_found,
    own_child,
    refused,
    responses,
    today,
)

router = Router(tags=["planning"], auth=AUTH)

PLANNING_DAYS = 62  # two months at most per call
PATTERN_DAYS = 366  # like the web form: a year at most


class CellOut(Schema):
    service_id: int
    service: str
    state: str = Field(description="not_offered, holiday, closed, deadline, not_validated, not_renewed "
                                   "(dossier à renouveler pour l’année suivante), child_review, "
                                   "full (complet : liste d’attente ouverte, voir join_waitlist), "
                                   "waiting (l’enfant est en liste d’attente : waitlist_entry_id, "
                                   "waitlist_position), no_ticket, available, final (disponible, non "
                                   "annulable une fois réservé), booked ou locked (réservé, non "
                                   "annulable), other_household (réservé par l’autre foyer de "
                                   "l’enfant)")
    label: str
    reason: str = Field(description="Pourquoi, quand l’état le dit (nom du jour férié, de la fermeture…)")
    booking_id: int | None
    waitlist_entry_id: int | None = Field(description="État waiting : l’inscription de l’enfant sur la "
                                                      "liste d’attente (pour leave_waitlist)")
    waitlist_position: int | None = Field(description="État waiting : son rang dans la liste (1 = la "
                                                      "prochaine place libérée lui revient si le foyer "
                                                      "a un ticket)")


class DayOut(Schema):
    date: datetime.date
    services: list[CellOut]


class PlanningBalance(Schema):
    ticket_type_id: int
    name: str
    balance: int


class PlanningOut(Schema):
    child_id: int
    start: datetime.date
    end: datetime.date
    balances: list[PlanningBalance]
    days: list[DayOut]


class PlanningQuery(Schema):
    start: datetime.date | None = Field(None, description="Premier jour (par défaut le lundi de "
                                                          "cette semaine)")
    end: datetime.date | None = Field(None, description="Dernier jour inclus (par défaut 4 semaines), "
                                                        f"{PLANNING_DAYS} jours au plus")

    _days = field_validator("start", "end")(check_day)


def _cells_out(row, day):
    # The web grid's states (planning_states.day_states), the waiting list's place included.
    return [{"service_id": c.service.pk, "service": c.service.name, "state": c.state,
             "label": c.label, "reason": c.reason, "booking_id": c.booking.pk if c.booking else None,
             "waitlist_entry_id": c.waiting.pk if c.waiting else None,
             "waitlist_position": c.waiting.position if c.waiting else None}
            for c in row.cells_for(day)]


@router.get("/children/{child_id}/planning", operation_id="get_planning",
            response=responses({200: PlanningOut}),
            summary="Les jours d’un enfant : état et raison par prestation")
def get_planning(request, child_id: Id, query: Query[PlanningQuery]):
    family_of(request)
    start = query.start or monday(today())
    end = query.end or start + datetime.timedelta(days=27)
    try:
        check_range(start, end, PLANNING_DAYS)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    child = own_child(request, child_id)
    days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    planning = planning_states.day_states([child], days, now=timezone.now())
    row = planning.rows[0] if planning.rows else None
    return {"child_id": child.pk, "start": start, "end": end,
            "balances": [{"ticket_type_id": t.pk, "name": t.name, "balance": planning.balances.get(t.pk, 0)}
                         for t in planning.ticket_types],
            "days": [{"date": d, "services": _cells_out(row, d) if row else []} for d in days]}


class BookingIn(Schema):
    child_id: Id
    service_id: Id
    date: datetime.date
    confirm_final: bool = Field(False, description="Confirme un jour qui ne pourra plus être annulé une "
                                                   "fois réservé (sinon refus 409, code confirm_final)")

    _day = field_validator("date")(check_day)


class BookingOut(Schema):
    id: int
    child_id: int
    service_id: int
    date: datetime.date
    status: str = Field(description="active ou cancelled")
    refunded: bool


def _booking_out(booking):
    return {"id": booking.pk, "child_id": booking.child_id, "service_id": booking.service_id,
            "date": booking.date, "status": booking.status, "refunded": booking.refunded}


@router.post("/bookings", operation_id="book_day", response=responses({201: BookingOut}),
             summary="Réserver un jour (un ticket est utilisé)")
def book_day_op(request, data: BookingIn):
    """Refus 409 avec le code de la règle : `not_offered`, `holiday`, `closed`, `deadline`,
    `not_validated`, `not_renewed`, `child_review`, `full`, `no_ticket`, `already`, `other_household`,
    `confirm_final`."""
    family_of(request)
    child = own_child(request, data.child_id)
    service = Service.objects.select_related("ticket_type").filter(pk=data.service_id).first()
    if service is None:
        raise not_found()
    # Asked only while the day can still be booked: past its booking deadline the refusal says so.
    if (not data.confirm_final and final_once_booked(service, data.date)
            and deadlines.is_before(deadlines.booking_rule(service), data.date, timezone.now())):
        raise ApiError(409, "confirm_final", _(
            "Non annulable une fois réservé : confirmez-vous %(what)s ? Le ticket ne pourra pas "
            "être rendu.") % {"what": f"{service.name}, {data.date:%d/%m/%Y}, {child.first_name}"})
    try:
        booking = book_day(child, service, data.date, by=request.auth)
    except BookingRefused as exc:
        raise refused(exc) from None
    return Status(201, _booking_out(booking))


@router.delete("/bookings/{booking_id}", operation_id="cancel_booking", response=responses({200: BookingOut}),
               summary="Annuler une réservation (le ticket est rendu)")
def cancel_booking_op(request, booking_id: Id):
    """Refus 409 : `cancel_deadline` (après la date limite, seule la mairie annule),
    `not_active` (déjà annulée)."""
    family_of(request)
    try:
        booking = access_booking(request.auth, booking_id)
    except Http404:
        raise not_found() from None
    try:
        cancel_booking(booking, by=request.auth)
    except BookingRefused as exc:
        raise refused(exc) from None
    return _booking_out(booking)


class PatternIn(Schema):
    child_ids: list[Id] = Field(min_length=1, max_length=10)
    service_ids: list[Id] = Field(min_length=1, max_length=10)
    weekdays: list[int] = Field(min_length=1, max_length=6, description="0 = lundi … 5 = samedi")
    start: datetime.date
    end: datetime.date = Field(description=f"Inclus ; {PATTERN_DAYS} jours au plus depuis start")

    _days = field_validator("start", "end")(check_day)

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value):
        for day in value:
            if not 0 <= day <= 5:
                from pydantic_core import PydanticCustomError

                raise PydanticCustomError("weekday", _("Jour de la semaine entre 0 (lundi) et 5 (samedi)."))
        return sorted(set(value))

    @model_validator(mode="after")
    def _range(self):
        check_range(self.start, self.end, PATTERN_DAYS)
        return self


class PatternLine(Schema):
    ticket_type_id: int
    name: str
    needed: int
    balance: int
    missing: int


class RefusedDay(Schema):
    child_id: int
    service_id: int
    date: datetime.date
    reason: str


class PreviewOut(Schema):
    days: int = Field(description="Jours qui seraient réservés (tickets permettant)")
    lines: list[PatternLine]
    refused: list[RefusedDay]


class PatternOut(Schema):
    booked: list[BookingOut]
    refused: list[RefusedDay]


def _pattern_args(request, data):
    """Children of the caller's family and services of their schools, else a 404 (like another
    family's child)."""
    family = family_of(request)
    found = (Child.objects.filter(Child.of_household(family.pk), pk__in=data.child_ids)
             .select_related("family", "school").order_by("first_name", "pk"))
    children = [c.seen_by(family) for c in found]  # booked and paid by this household
    if len(children) != len(set(data.child_ids)):
        raise not_found()
    services = list(Service.objects.filter(pk__in=data.service_ids,
                                           schools__in=[c.school_id for c in children])
                    .distinct().select_related("ticket_type").order_by("order", "name"))
    if len(services) != len(set(data.service_ids)):
        raise not_found()
    return family, (children, services, data.weekdays, data.start, data.end)


def _refused_out(refused):
    return [{"child_id": child.pk, "service_id": service.pk, "date": day, "reason": str(reason)}
            for child, service, day, reason in refused]


@router.post("/patterns/preview", operation_id="preview_pattern", response=responses({200: PreviewOut}),
             summary="Semaine type : tickets nécessaires, jours refusés et pourquoi")
def preview_pattern(request, data: PatternIn):
    _family, args = _pattern_args(request, data)
    preview = pattern_preview(*args)
    return {"days": preview["days"],
            "lines": [{"ticket_type_id": line["ticket_type"].pk, "name": line["ticket_type"].name,
                       "needed": line["needed"], "balance": line["balance"], "missing": line["missing"]}
                      for line in preview["lines"]],
            "refused": _refused_out(preview["refused"])}


@router.post("/patterns", operation_id="book_pattern", response=responses({200: PatternOut}),
             summary="Semaine type : réserver autant de jours que les tickets le permettent")
def book_pattern_op(request, data: PatternIn):
    family, args = _pattern_args(request, data)
    result = book_pattern(*args, by=request.auth)
    notify.pattern_booked(family, result)
    return {"booked": [_booking_out(b) for b in result.booked], "refused": _refused_out(result.refused)}



