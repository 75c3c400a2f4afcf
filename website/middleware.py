from csp.middleware import CSPMiddleware, PolicyParts
from django.utils.crypto import salted_hmac

# The Wagtail admin still relies on inline scripts and styles; the public site and the portal
# keep the strict policy from settings.
ADMIN_CSP_UPDATE = {
    "script-src": ["'unsafe-inline'", "'unsafe-eval'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["https:"],
    "frame-ancestors": ["'self'"],
}


class PreauCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path.startswith("/admin/"):
            parts = PolicyParts(parts.config, {**(parts.update or {}), **ADMIN_CSP_UPDATE},
                                parts.replace, parts.nonce)
        return parts


def offline_owner(get_response):
    """Tells the service worker (sw.js) whose page this is, without saying who: the pages it
    keeps for reading offline are emptied as soon as a page of someone else comes."""

    def middleware(request):
        response = get_response(request)
        user = getattr(request, "user", None)
        is_html = response.get("Content-Type", "").startswith("text/html")
        if is_html and user is not None and user.is_authenticated:
            response["Preau-User"] = salted_hmac("preau-offline-owner", str(user.pk)).hexdigest()[:20]
        return response

    return middleware
