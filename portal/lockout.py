"""Login lockout (django-axes): who the client is behind the reverse proxies, and two limits.

Failures are counted per (account, client address), so a stranger cannot lock an account's
owner out, and per client address across accounts, so one address cannot spray passwords
over many accounts."""

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum


def client_address(request):
    """The client's address: with N trusted reverse proxies (PREAU_TRUSTED_PROXIES), each
    appending the address it saw to X-Forwarded-For, the N-th entry from the right. Entries
    further left were written by the client and are never believed."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PREAU_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in chain if part]
    if len(chain) < proxies:
        return remote
    candidate = chain[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class LockoutHandler(AxesDatabaseHandler):
    """AXES_LOCKOUT_PARAMETERS is [[username, ip_address], ip_address]: the first group is held
    to AXES_FAILURE_LIMIT, the second (the address alone) to PREAU_ADDRESS_FAILURE_LIMIT."""

    def get_failures(self, request, credentials=None):
        account, address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials))
        if address >= settings.PREAU_ADDRESS_FAILURE_LIMIT:
            return max(account, get_failure_limit(request, credentials))
        return account

    def reset_user_attempts(self, request, credentials=None):
        # A success clears only this account's failures from this address: logging into one's
        # own account must not wipe the address's count of failures on other accounts.
        count, _deleted = self.filter_user_attempts(request, credentials)[0].delete()
        return count


def forget_failures(user):
    """The owner proved who they are (a password reset link): their account opens again at
    once, from any address."""
    from axes.utils import reset  # here: axes imports this module while loading its handler


    reset(username=user.get_username().strip().lower())
