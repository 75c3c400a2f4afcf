"""The installable web app: manifest, icons, service worker and its offline page.

The service worker (templates/sw.js) is served from the site root so its scope is the whole
site; its version is a hash of its own code and of the app shell's static URLs (hashed in
production), so any change to either installs a new worker that drops the old caches.
"""

import hashlib
import io
import json
from functools import lru_cache

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from portal.services.town import town_settings

THEME = "#1d4f91"
ICON_SIZES = (192, 512)
# What every page needs offline: styles, scripts, the brand, the offline page.
SHELL = ("css/preau.css", "js/site.js", "img/favicon.svg", "portal/css/planning.css",
         "portal/js/htmx.min.js", "portal/js/planning.js")
# The pages kept for reading offline, the last seen of each: prefixes of their paths.
KEPT_PAGES = ("/famille/planning/", "/famille/porte-monnaie/", "/menus/")


@require_safe
@cache_control(max_age=3600)
def manifest(request):
    town = town_settings(request)
    name = town.town_name if town else "Préau"
    data = {
        "id": "/famille/",
        "name": _("%(town)s — Périscolaire") % {"town": name},
        "short_name": name[:12],
        "description": _("Réserver la cantine et la garderie, acheter des tickets."),
        "lang": "fr",
        "start_url": "/famille/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [{"src": f"/icons/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": "any"} for size in ICON_SIZES]
        + [{"src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"}],
    }
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json")


@lru_cache(maxsize=len(ICON_SIZES))
def icon_png(size):
    """The default icon, drawn like favicon.svg (a white house on the town blue), with room
    around it for the masks of Android launchers."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), THEME)
    draw = ImageDraw.Draw(image)
    u = size / 32  # the favicon's 32×32 grid, drawn in the middle 70 % (maskable safe zone)
    ox = oy = size * 0.15

    def at(x, y):
        return (ox + x * u * 0.7, oy + y * u * 0.7)

    draw.polygon([at(6, 15), at(16, 7), at(26, 15), at(26, 25), at(6, 25)], fill="#ffffff")
    draw.rectangle([at(13, 18), at(19, 25)], fill=THEME)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@require_safe
@cache_control(max_age=86400)
def icon(request, size):
    if size not in ICON_SIZES:
        raise Http404
    return HttpResponse(icon_png(size), content_type="image/png")


def shell_urls():
    return ["/hors-ligne/", *(static(path) for path in SHELL)]


@lru_cache(maxsize=1)
def _worker(shell):
    code = render_to_string("sw.js", {"shell": json.dumps(list(shell)), "kept": json.dumps(KEPT_PAGES),
                                      "version": "VERSION"})
    version = hashlib.sha256(code.encode()).hexdigest()[:12]
    return code.replace('"VERSION"', f'"{version}"', 1), version


@require_safe
def service_worker(request):
    code, _version = _worker(tuple(shell_urls()))
    response = HttpResponse(code, content_type="text/javascript")
    response["Cache-Control"] = "no-cache"  # the browser checks for a new version on each visit
    return response


@require_safe
def offline(request):
    return render(request, "offline.html")
