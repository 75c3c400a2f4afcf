"""Tokens of the families' apps (API v1): obtained with e-mail and password under the login
form's lockout, stored as a hash, listed on the account page with their last use, revocable."""

import datetime
import secrets

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import AppToken
from portal.models.account import hash_token
from portal.services.access import family_of_guardian

PREFIX = "preau_"
# last_used_at is written at most this often: an app polling every few seconds must not turn
# each read into a write.
TOUCH_INTERVAL = datetime.timedelta(minutes=1)
MAX_ACTIVE = 20


class TokenRefused(Exception):
    def __init__(self, code, message, status):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def family_of_user(user):
    """The family an API caller acts for (access.family_of_guardian, like the web pages), or None:
    only families use the API, agents and editors (staff) work in the back office."""
    if user.is_staff or not user.is_active:
        return None
    return family_of_guardian(user)


def not_family_message():
    return _("L’API est réservée aux familles : les agents utilisent l’espace de gestion.")


def create_token(request, email, password, name=""):
    """A new token for a guardian, after the same checks as the login form: the lockout of
    django-axes (per account and client address, and per address), counted failures, and a
    success that clears this account's failures from this address. Returns (token, raw)."""
    email = (email or "").strip().lower()
    user = authenticate(request, username=email, password=password)
    if getattr(request, "axes_locked_out", False):
        # Answered here as JSON: AxesMiddleware would otherwise swap in the HTML lockout page.
        request.axes_locked_out = False
        raise TokenRefused("locked", _("Trop d’essais infructueux : ce compte est bloqué pendant "
                                       "15 minutes depuis cette adresse. Réessayez plus tard ou "
                                       "réinitialisez votre mot de passe."), 429)
    if user is None:
        raise TokenRefused("invalid_credentials",
                           _("Adresse e-mail ou mot de passe incorrect."), 401)
    if family_of_user(user) is None:
        raise TokenRefused("not_family", not_family_message(), 403)
    AxesProxyHandler.user_logged_in(sender=None, request=request, user=user)
    if AppToken.objects.filter(user=user, revoked_at=None).count() >= MAX_ACTIVE:
        raise TokenRefused("too_many_tokens", _(
            "Vous avez déjà %(n)d jetons actifs : révoquez-en un depuis « Mon compte ».") % {
            "n": MAX_ACTIVE}, 409)
    raw = PREFIX + secrets.token_urlsafe(32)
    token = AppToken.objects.create(user=user, name=(name or "").strip()[:100],
                                    token_hash=hash_token(raw))
    return token, raw


def user_for_token(raw, now=None):
    """The active user of a token that is neither unknown nor revoked, else None; notes its use."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None, None
    token = (AppToken.objects.select_related("user")
             .filter(token_hash=hash_token(raw), revoked_at=None).first())
    if token is None or not token.user.is_active:
        return None, None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        AppToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


def user_tokens(user):
    """The user's tokens still active, newest first (the account page's list)."""
    return list(AppToken.objects.filter(user=user, revoked_at=None).order_by("-created_at", "-pk"))


def revoke_token(user, public_id):
    """Revoke one of the user's tokens; False when it is not theirs or already revoked (a 404)."""
    return bool(AppToken.objects.filter(user=user, public_id=public_id, revoked_at=None)
                .update(revoked_at=timezone.now()))
