"""API v1 for the families' apps: /api/v1/, OpenAPI at /api/v1/openapi.json, docs at
/api/v1/docs. One router per concept, each calling the same services as the web pages.
Every refusal is JSON {code, message} with a 4xx status (docs/api.md)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from . import content, family, payments, planning, tax, tokens, waitlist
from .common import ApiError

api = NinjaAPI(
    title="Préau — API des familles",
    version="1",
    description="Réservations, listes d’attente, porte-monnaie, achats, attestations de frais de "
                "garde, menus et documents d’une famille. Authentification : un jeton obtenu par "
                "`create_token` (en-tête `Authorization: Bearer …`), ou la session du site (avec le "
                "jeton CSRF). "
                "Chaque refus est un JSON `{code, message}` avec un statut 4xx.",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("", tokens.router)
api.add_router("", family.router)
api.add_router("", planning.router)
api.add_router("", waitlist.router)
api.add_router("", payments.router)
api.add_router("", tax.router)
api.add_router("", content.router)


def _error(request, status, code, message, fields=()):
    return api.create_response(request, {"code": code, "message": message, "fields": list(fields)},
                               status=status)


@api.exception_handler(ApiError)
def _api_error(request, exc):
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", _("Introuvable : cet objet n’existe pas ou n’est pas le vôtre."))


@api.exception_handler(PermissionDenied)
def _not_the_households(request, exc):
    # A service's refusal of a child that is not (or no longer) the caller's household's: the
    # same answer as another family's object, never Django's HTML 403.
    return _not_found(request, exc)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "unauthenticated", _(
        "Connexion requise : envoyez « Authorization: Bearer <jeton> » (voir create_token) ; un "
        "jeton révoqué ou inconnu ne vaut plus."))


HTTP_ERRORS = {
    400: ("bad_request", lambda: _("Requête illisible : le corps doit être un objet JSON.")),
    403: ("forbidden", lambda: _("Accès refusé.")),
    405: ("method_not_allowed", lambda: _("Méthode non permise pour cette adresse.")),
    429: ("throttled", lambda: _("Trop de requêtes : réessayez dans un instant.")),
}


@api.exception_handler(HttpError)
def _http_error(request, exc):
    code, message = HTTP_ERRORS.get(exc.status_code, ("bad_request", HTTP_ERRORS[400][1]))
    return _error(request, exc.status_code if exc.status_code in HTTP_ERRORS else 400, code, message())


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    # Above all a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE.
    return _error(request, 400, "bad_request", _("Requête refusée : trop volumineuse ou mal formée."))


# Pydantic's error types, said in French; our own validators' messages are French already.
FIELD_MESSAGES = {
    "missing": lambda: _("obligatoire"),
    "date_from_datetime_parsing": lambda: _("date attendue (AAAA-MM-JJ)"),
    "date_from_datetime_inexact": lambda: _("date attendue (AAAA-MM-JJ)"),
    "date_parsing": lambda: _("date attendue (AAAA-MM-JJ)"),
    "date_type": lambda: _("date attendue (AAAA-MM-JJ)"),
    "int_parsing": lambda: _("nombre entier attendu"),
    "int_type": lambda: _("nombre entier attendu"),
    "int_from_float": lambda: _("nombre entier attendu"),
    "bool_parsing": lambda: _("true ou false attendu"),
    "bool_type": lambda: _("true ou false attendu"),
    "string_type": lambda: _("texte attendu"),
    "string_too_long": lambda: _("texte trop long"),
    "string_pattern_mismatch": lambda: _("caractères interdits"),
    "list_type": lambda: _("liste attendue"),
    "too_short": lambda: _("liste trop courte"),
    "too_long": lambda: _("liste trop longue"),
    "greater_than_equal": lambda: _("valeur trop petite"),
    "less_than_equal": lambda: _("valeur trop grande"),
    "uuid_parsing": lambda: _("identifiant (UUID) attendu"),
    "uuid_type": lambda: _("identifiant (UUID) attendu"),
    "model_attributes_type": lambda: _("objet JSON attendu"),
    "model_type": lambda: _("objet JSON attendu"),
    "dict_type": lambda: _("objet JSON attendu"),
}
OUR_TYPES = {"date_range", "date_order", "range_too_long", "weekday"}
CONTAINERS = {"body", "query", "path", "data", "header", "cookie"}


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    fields = []
    for error in exc.errors:
        name = ".".join(str(part) for part in error.get("loc", ()) if part not in CONTAINERS) or "body"
        kind = error.get("type", "")
        if kind in OUR_TYPES:
            text = error.get("msg", "")
        else:
            text = FIELD_MESSAGES.get(kind, lambda: _("valeur invalide"))()
        fields.append({"field": name, "message": str(text)})
    summary = "; ".join(f"{f['field']} : {f['message']}" for f in fields[:5])
    message = _("Requête invalide — %(details)s.") % {"details": summary}
    return _error(request, 422, "invalid", message, fields)
