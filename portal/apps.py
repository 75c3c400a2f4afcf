from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portail famille")

    def ready(self):
        from portal.cache import display_cache

        display_cache.connect_signals()
        connect_regulation_announcement()


def connect_regulation_announcement():
    """A new regulation version is announced to the families once its upload is saved."""
    from django.db import transaction
    from django.db.models.signals import post_save

    from documents.models import PreauDocument

    def saved(sender, instance, **kwargs):
        if instance.kind == PreauDocument.Kind.REGULATION:
            from portal.services import dossier

            transaction.on_commit(lambda: dossier.announce_regulation(instance))

    post_save.connect(saved, sender=PreauDocument, weak=False, dispatch_uid="preau-regulation-announce")
