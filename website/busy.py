"""« Réessayez dans un instant »: the answer when Préau is too busy to serve a request, instead
of a slow timeout or a 500.

Two ways in, both before or instead of any change:
- a request that waited in the proxy's queue longer than PREAU_MAX_QUEUE_SECONDS (nginx stamps
  `X-Request-Start: t=<seconds>`, docs/deployment.md) is answered at once, without running its
  view: by then the visitor has mostly given up, and serving it would only make the queue longer;
- a database error that says "not now" (a lock not obtained within lock_timeout, a statement
  cancelled by statement_timeout, a connection refused, terminated or lost, a deadlock) reaches
  `server_error`, the 500 handler, which answers 503 instead. Every change runs inside one
  transaction (portal/services): a booking, a cancellation or a purchase is applied whole or
  not at all, never half.
"""

import logging
import sys
import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
CLOCK_SKEW_SECONDS = 120
# Under overload thousands of requests are shed a minute: one log line per interval says how many.
LOG_EVERY_SECONDS = 10.0
_shed = {"count": 0, "logged_at": 0.0}
_shed_lock = threading.Lock()


def _log_shed(path, waited):
    now = time.monotonic()
    with _shed_lock:
        _shed["count"] += 1
        if now - _shed["logged_at"] < LOG_EVERY_SECONDS:
            return
        count, _shed["count"], _shed["logged_at"] = _shed["count"], 0, now
    logger.warning("Busy: %d request(s) queued longer than PREAU_MAX_QUEUE_SECONDS answered 503 "
                   "(the last: %s after %.1f s).", count, path, waited)


def busy_response(request, *, changed_nothing=True):
    """`changed_nothing`: the view did not run, or could not have written (a GET). After a failed
    POST, an earlier transaction of the same request may have committed: the page says where to look."""
    if is_api(request):
        message = (_("Réessayez dans un instant : le service est très demandé ; rien n’a été modifié.")
                   if changed_nothing else
                   _("Réessayez dans un instant : le service est très demandé. Vérifiez le planning "
                     "et le porte-monnaie avant de recommencer."))
        response = JsonResponse({"code": "busy", "message": message, "fields": []}, status=503)
    else:
        context = {"changed_nothing": changed_nothing}
        response = HttpResponse(loader.render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def is_api(request):
    """The apps read JSON {code, message}, also when Préau is busy or fails (docs/api.md)."""
    return request.path.startswith("/api/")


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """handler500: Django calls it inside its `except` block, so the exception is at hand."""
    exception = sys.exc_info()[1]
    if isinstance(exception, (OperationalError, InterfaceError)):
        logger.warning("Busy: %s failed on the database (%s), answered 503.", request.path, exception)
        return busy_response(request, changed_nothing=request.method in ("GET", "HEAD"))
    if is_api(request):
        return JsonResponse({"code": "server_error", "fields": [], "message": _(
            "Erreur du serveur : l’action a pu être enregistrée ou non. Vérifiez le planning et le "
            "porte-monnaie avant de recommencer.")}, status=500)
    return defaults.server_error(request, template_name)


def queue_limit(get_response):
    """Sheds requests that queued too long in front of the app servers (see the module doc)."""

    def middleware(request):
        limit = settings.PREAU_MAX_QUEUE_SECONDS
        stamp = request.META.get("HTTP_X_REQUEST_START", "")
        if limit and stamp.startswith("t="):
            try:
                waited = time.time() - float(stamp[2:])
            except ValueError:
                waited = 0.0
            # Beyond a few minutes the stamp says more about the clocks than about the queue (a
            # proxy on another machine whose clock is off): then it is ignored, never obeyed.
            if limit < waited < CLOCK_SKEW_SECONDS:
                _log_shed(request.path, waited)
                return busy_response(request)
        return get_response(request)

    return middleware
