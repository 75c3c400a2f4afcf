from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portail famille")

    def ready(self):
        from portal.cache import display_cache

        display_cache.connect_signals()
