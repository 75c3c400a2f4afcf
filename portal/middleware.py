import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from portal.cache import display_cache, public_pages
from portal.services.access import SecondFactorRequired, needs_second_factor

# Checked at most once a minute so the session is not written on every request.
IDLE_TOUCH_INTERVAL = 60


class RequestMemoMiddleware:
    """With Redis down, a value one page asks for twice is computed once (display_cache.cached),
    and never kept beyond the request: first in MIDDLEWARE, so it covers every other one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with display_cache.request_memo():
            return self.get_response(request)


class FamilyIdleTimeoutMiddleware:
    """Log families out after PREAU_FAMILY_IDLE_TIMEOUT seconds without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_staff:
            now = int(time.time())
            last_seen = request.session.get("preau_last_seen")
            timeout = settings.PREAU_FAMILY_IDLE_TIMEOUT
            if last_seen is not None and now - last_seen > timeout:
                logout(request)
                if request.path.startswith("/api/"):
                    # The API answers a session that ended with its JSON 401, not a login page.
                    return self.get_response(request)
                messages.info(request, _("Votre session a expiré après 30 minutes d’inactivité. "
                                         "Reconnectez-vous."))
                return redirect(f"{reverse('portal:login')}?next={request.path}")
            if last_seen is None or now - last_seen > IDLE_TOUCH_INTERVAL:
                request.session["preau_last_seen"] = now
        return self.get_response(request)


class AgentTwoFactorMiddleware:
    """With PREAU_ADMIN_REQUIRE_2FA, the Wagtail admin, and every portal view that shows staff
    another family's data (portal.services.access.staff_may_read), need a verified TOTP device."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._admin_needs_second_factor(request):
            return self._second_factor_step(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, SecondFactorRequired):
            return self._second_factor_step(request)
        return None

    @staticmethod
    def _second_factor_step(request):
        return redirect(f"{reverse('portal:otp_verify')}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _admin_needs_second_factor(request):
        if not request.path.startswith("/admin/"):
            return False
        if request.path.startswith(("/admin/login/", "/admin/logout/", "/admin/password_reset/")):
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        # Families who wander to /admin/ get Wagtail's own refusal, not an enrolment page.
        if not user.has_perm("wagtailadmin.access_admin"):
            return False
        return needs_second_factor(user)


class HtmxRedirectMiddleware:
    """A redirect answering an htmx request (a session that expired while the planning stayed
    open sends to the login page) becomes a real navigation: followed inside the request, the
    login page would be swapped into the planning."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "htmx", False) and response.status_code in (301, 302, 303, 307, 308):
            return HttpResponseClientRedirect(response["Location"])
        return response


class PublicPageCacheMiddleware:
    """Answers anonymous visitors' public pages from the shared cache (portal/cache/public_pages.py).
    Placed after the CSRF and authentication middleware: a kept page gets a fresh CSRF token, and
    what comes after it (messages, 2FA, idle timeout…) has nothing to do for a cookie-less visitor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = public_pages.cached_response(request)
        if response is not None:
            return response
        return public_pages.store(request, self.get_response(request))
