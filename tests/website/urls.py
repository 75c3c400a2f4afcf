"""The real URLs plus one view that fails, to see the 500 page a family would get."""

from django.urls import path

from website.urls import handler500  # noqa: F401
from website.urls import urlpatterns as site_urlpatterns


def broken_view(request):
    raise RuntimeError("deliberate failure for the 500 page test")


urlpatterns = [path("test-erreur/", broken_view), *site_urlpatterns]
