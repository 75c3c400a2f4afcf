from django.core.management.base import BaseCommand, CommandError

from portal.services.wallet import find_inconsistencies


class Command(BaseCommand):
    help = ("Vérifie que chaque solde est égal à la somme de son journal et que chaque "
            "réservation a exactement les mouvements attendus.")

    def handle(self, *args, **options):
        problems = find_inconsistencies()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} incohérence(s).")
        self.stdout.write(self.style.SUCCESS("Porte-monnaie et réservations cohérents."))
