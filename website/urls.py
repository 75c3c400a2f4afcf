from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from home import views as home_views
from portal.api import api

from . import pwa

# A database that is too busy (a lock or statement timeout, a lost connection) gives the
# « réessayez dans un instant » page (503), any other failure the 500 page.
handler500 = "website.busy.server_error"

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("api/v1/", api.urls),
    # The web app: the worker at the root so its scope is the whole site.
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("icons/icon-<int:size>.png", pwa.icon, name="app_icon"),
    path("hors-ligne/", pwa.offline, name="offline"),
    path("documents/", include(wagtaildocs_urls)),
    path("recherche/", home_views.search, name="search"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("videos/", include("tutorials.urls")),
    path("famille/", include("portal.urls")),
    path("equipe/", include("portal.staff_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
