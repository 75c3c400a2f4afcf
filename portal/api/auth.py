"""Who calls: an app with a bearer token (portal/services/app_tokens.py), or the web app with
its session cookie, whose unsafe requests must carry the CSRF token like any form."""

from django.conf import settings
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from portal.services import app_tokens

from .common import ApiError


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user, app_token = app_tokens.user_for_token(token)
        if user is None:
            return None
        # Code below reads request.user (document restrictions, audit): it is the token's owner.
        request.user = user
        request.app_token = app_token
        return user


class SessionAuth(APIKeyCookie):
    """Django's session. Without a logged-in session the next scheme (or a 401) answers; with
    one, a POST or DELETE without the CSRF token is refused, as on the web pages."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise ApiError(403, "csrf", _("Jeton CSRF absent ou invalide : rechargez la page."))
        return request.user


token_auth = TokenAuth()
session_auth = SessionAuth()
AUTH = [token_auth, session_auth]
