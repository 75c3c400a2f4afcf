from csp.middleware import CSPMiddleware, PolicyParts

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
