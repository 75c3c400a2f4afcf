"""join_waitlist, leave_waitlist, list_waitlist: the waiting lists of full days, by the rules of
the web planning (portal/services/booking.py join_waitlist/leave_waitlist), with its refusal
codes and messages."""

import datetime
from typing import Literal

from django.db.models import F
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from portal.models import Service, WaitlistEntry
from portal.services import waitlist
from portal.services.access import access_waitlist_entry
from portal.services.booking import BookingRefused, join_waitlist, leave_waitlist

from .auth import AUTH
from .common import Id, check_day, family_of, not_found, own_child, refused, responses, today

router = Router(tags=["liste d’attente"], auth=AUTH)

LIST_LIMIT = 200


class WaitlistIn(Schema):
    child_id: Id
    service_id: Id
    date: datetime.date

    _day = field_validator("date")(check_day)


class WaitlistEntryOut(Schema):
    id: int
    child_id: int
    child: str = Field(description="Prénom de l’enfant")
    service_id: int
    service: str
    date: datetime.date
    status: str = Field(description="waiting (en attente), booked (place obtenue : la réservation "
                                    "booking_id a été faite et payée d’un ticket) ou left (retiré de "
                                    "la liste)")
    status_label: str = Field(description="L’état en français, à montrer tel quel ; une inscription "
                                          "restée en attente d’un jour passé est « Expirée (le jour "
                                          "est passé sans place libre) »")
    position: int | None = Field(description="Rang dans la liste (1 = la prochaine place libérée lui "
                                             "revient si le foyer a un ticket), tant que l’enfant attend "
                                             "un jour qui n’est pas passé")
    booking_id: int | None = Field(description="La réservation obtenue quand une place s’est libérée")


def _entry_out(entry, day):
    return {"id": entry.pk, "child_id": entry.child_id, "child": entry.child.first_name,
            "service_id": entry.service_id, "service": entry.service.name, "date": entry.date,
            "status": entry.status,
            "status_label": str(WaitlistEntry.state_label(entry.status, entry.date, day)),
            "position": entry.position,
            # A place the other household booked ends this household's entry too: its booking
            # stays out of sight (« Réservé par l’autre foyer » in the planning, nothing more).
            "booking_id": entry.booking_id if entry.booking_family_id == entry.family_id else None}


def _with_positions(entries, day):
    """The entries with their place while waiting for a day not passed (else None), as the
    agents' listing counts it, in the same one query."""
    return waitlist.with_positions(entries.select_related("child", "service"), day).annotate(
        booking_family_id=F("booking__family_id"))


@router.post("/waitlist", operation_id="join_waitlist", response=responses({201: WaitlistEntryOut}),
             summary="Inscrire un enfant sur la liste d’attente d’un jour complet (aucun ticket pris)")
def join_waitlist_op(request, data: WaitlistIn):
    """Seulement un jour complet d’une prestation à places limitées (état `full` du planning).
    Aucun ticket n’est pris à l’inscription : si une place se libère, elle est réservée et payée
    d’un ticket du foyer à ce moment-là (sans ticket, l’enfant garde son rang et la place va au
    suivant), et la famille est prévenue par e-mail. Refus 409 avec le code de la règle :
    `not_full` (une place est libre : réservez avec book_day), `waiting` (déjà sur la liste),
    `already` (jour déjà réservé), `other_household`, `not_offered`, `holiday`, `closed`,
    `deadline`, `not_validated`, `not_renewed`, `child_review`."""
    family_of(request)
    child = own_child(request, data.child_id)
    service = Service.objects.filter(pk=data.service_id).first()
    if service is None:
        raise not_found()
    try:
        entry = join_waitlist(child, service, data.date, by=request.auth)
    except BookingRefused as exc:
        raise refused(exc) from None
    day = today()
    entry = _with_positions(WaitlistEntry.objects.filter(pk=entry.pk), day).get()
    return Status(201, _entry_out(entry, day))


@router.delete("/waitlist/{entry_id}", operation_id="leave_waitlist",
               response=responses({200: WaitlistEntryOut}),
               summary="Retirer un enfant de la liste d’attente")
def leave_waitlist_op(request, entry_id: Id):
    """Refus 409 `not_waiting` : l’enfant n’est plus sur la liste (déjà retiré, ou une place lui a
    été donnée : la réservation est dans le planning) ; `waitlist_expired` : le jour est passé
    sans place libre."""
    family_of(request)
    try:
        entry = access_waitlist_entry(request.auth, entry_id)
    except Http404:
        raise not_found() from None
    try:
        leave_waitlist(entry, by=request.auth)
    except BookingRefused as exc:
        raise refused(exc) from None
    entry.position = entry.booking_family_id = None  # left: no place, no booking
    return _entry_out(entry, today())


class WaitlistQuery(Schema):
    period: Literal["coming", "past"] = Field(
        "coming", description="coming : les jours à partir d’aujourd’hui, dans l’ordre des dates "
                              "(par défaut) ; past : les jours passés, les plus récents d’abord. "
                              f"{LIST_LIMIT} inscriptions au plus")


@router.get("/waitlist", operation_id="list_waitlist", response=responses({200: list[WaitlistEntryOut]}),
            summary="Les inscriptions du foyer en liste d’attente, avec leur rang")
def list_waitlist(request, query: Query[WaitlistQuery]):
    """Celles que ce foyer a faites (pour un enfant de deux foyers, pas celles de l’autre foyer)."""
    family = family_of(request)
    day = today()
    entries = WaitlistEntry.objects.filter(family=family)
    if query.period == "past":
        entries = entries.filter(date__lt=day).order_by("-date", "service__order", "service__name", "-pk")
    else:
        entries = entries.filter(date__gte=day).order_by("date", "service__order", "service__name", "pk")
    return [_entry_out(e, day) for e in _with_positions(entries, day)[:LIST_LIMIT]]
