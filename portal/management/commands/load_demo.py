from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

import documents.demo
import home.demo
import menus.demo
import portal.demo
import portal.demo_attendance
import portal.demo_households
import portal.demo_notifications
import portal.demo_payments
import portal.demo_planning
import portal.demo_tax
import portal.demo_waitlist
import tutorials.demo

# Order matters: the home page must exist before the sections are added under it.
LOADERS = [home.demo, documents.demo, menus.demo, tutorials.demo, portal.demo, portal.demo_planning,
           portal.demo_payments, portal.demo_attendance, portal.demo_notifications,
           portal.demo_waitlist, portal.demo_tax, portal.demo_households]


class Command(BaseCommand):
    help = "Charge la commune de démonstration « Ville de Saint-Exemple » (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            for loader in LOADERS:
                loader.load()
                self.stdout.write(f"  {loader.__name__}: ok")
        # Saving a page only queues its indexing for the task worker, which `make run` does not
        # start: index the demo now so the site search finds it at once.
        call_command("update_index", stdout=self.stdout, verbosity=0)
        self.stdout.write(self.style.SUCCESS(
            "Démo prête (mot de passe preau-demo-2026) : famille.demo@example.org, "
            "famille2.demo@example.org, famille.jour.demo@example.org, famille.rappel.demo@example.org, "
            "famille.foyer2.demo@example.org, agent.demo@example.org, "
            "animateur.demo@example.org, editeur.demo@example.org"))
