"""What every operation of the API shares: the error body, the refusals, the caller's family,
identifiers and dates bounded so that no input reaches the database or the calendar unchecked."""

import datetime
from typing import Annotated

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic_core import PydanticCustomError

from portal.services import app_tokens
from portal.services.access import access_child

# Primary keys are 64-bit: a larger number is refused before any query (SQLite overflows).
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Text stored or looked up in the database: PostgreSQL refuses NUL characters in text.
NO_NUL = r"^[^\x00]*$"
# The portal's calendar covers these years (the web pages refuse others the same way).
FIRST_YEAR, LAST_YEAR = 2000, 2100


class FieldError(Schema):
    field: str
    message: str


class Error(Schema):
    code: str = Field(description="Code stable, à tester par les applications "
                                  "(deadline, no_ticket, full, not_validated…)")
    message: str = Field(description="Message en français, à montrer tel quel")
    fields: list[FieldError] = Field(default_factory=list)


class ApiError(Exception):
    """A refusal answered as JSON {code, message} with a 4xx status."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# Every status an operation can answer besides its success, for the OpenAPI document.
ERRORS = {status: Error for status in (400, 401, 403, 404, 409, 422, 429)}


def responses(success):
    return {**success, **ERRORS}


def not_found():
    return ApiError(404, "not_found", _("Introuvable : cet objet n’existe pas ou n’est pas le vôtre."))


def own_child(request, child_id):
    """A child of the caller's household (the one it books and pays for, Child.household), else
    a 404 like any other family's object."""
    try:
        return access_child(request.auth, child_id)
    except Http404:
        raise not_found() from None


def refused(exc):
    """A service's BookingRefused as a 409 with the rule's code and the web page's message."""
    return ApiError(409, exc.code, exc.message)


def check_day(value):
    """A date within the portal's years (a date near year 1 or 9999 would overflow the calendar)."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise PydanticCustomError("date_range", _("Date hors de la période gérée ({first}–{last})."),
                                  {"first": FIRST_YEAR, "last": LAST_YEAR})
    return value


def check_range(start, end, longest):
    if end < start:
        raise PydanticCustomError("date_order", _("La date de fin doit suivre la date de début."))
    if (end - start).days >= longest:
        raise PydanticCustomError("range_too_long", _("Période trop longue : {days} jours au plus."),
                                  {"days": longest})


def family_of(request):
    """The caller's family: the API is for families only. Agents, editors and Animateurs (staff,
    or no family) get a 403 with code `not_family`, and nothing of anyone's family."""
    family = app_tokens.family_of_user(request.auth)
    if family is None:
        raise ApiError(403, "not_family", app_tokens.not_family_message())
    return family


def today():
    from django.utils import timezone

    return timezone.localdate()


def monday(day):
    return day - datetime.timedelta(days=day.weekday())
