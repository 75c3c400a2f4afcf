from django.core.management.base import BaseCommand

from portal.cache import display_cache


class Command(BaseCommand):
    help = ("Invalidate every cached planning value and page at once: run it after a change the "
            "signals cannot see (a SQL fix, a data migration, a queryset update()).")

    def handle(self, *args, **options):
        display_cache.bump_everything()
        if display_cache.shared():
            self.stdout.write("Caches invalidated: every page is computed again on its next view.")
        else:
            self.stdout.write("No shared cache (REDIS_URL unset): each process keeps its own values, "
                              "for a minute at most, and no page; nothing else to do.")
