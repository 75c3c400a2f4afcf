from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from website.urls import handler500  # noqa: F401
from website.urls import urlpatterns as site_urlpatterns

# The floor: one PostgreSQL query, then a 31-cell month table through Django templates.
FLOOR = engines["django"].from_string(
    "<!DOCTYPE html><html lang=\"fr\"><title>floor</title><table><tbody>"
    "{% for day in days %}<tr><th scope=\"row\">{{ day.label }}</th><td><button name=\"book\" "
    "value=\"{{ day.value }}\" aria-label=\"Réserver le {{ day.label }}\">{{ day.state }}</button>"
    "</td></tr>{% endfor %}</tbody></table></html>")


def floor(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    days = [{"label": f"jour {i}", "value": f"1:1:2026-12-{i:02d}", "state": "Disponible"}
            for i in range(1, 32)]
    return HttpResponse(FLOOR.render({"days": days}))


urlpatterns = [path("bench/floor/", floor)] + site_urlpatterns
