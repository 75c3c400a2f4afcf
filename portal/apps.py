from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portail famille")

    def ready(self):
        from portal.cache import display_cache, public_pages

        display_cache.connect_signals()
        public_pages.connect_signals()
        connect_search_functions()
        connect_regulation_announcement()
        connect_staff_menu()


def connect_search_functions():
    """SQLite gets the family search's SQL functions (PostgreSQL has them from migration 0017)."""
    from django.db.backends.signals import connection_created

    from portal.services.family_search import register_sqlite_functions

    connection_created.connect(register_sqlite_functions, dispatch_uid="preau-search-functions")


def connect_staff_menu():
    """Remember at login whether the user runs the day's lists: the header then shows them
    their links instead of the family's, without a permission query on every page."""
    from django.contrib.auth.signals import user_logged_in

    def logged_in(sender, request, user, **kwargs):
        from portal.services import attendance

        if request is not None and hasattr(request, "session"):
            request.session["staff_lists"] = attendance.is_staff_member(user)

    user_logged_in.connect(logged_in, weak=False, dispatch_uid="preau-staff-menu")


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
