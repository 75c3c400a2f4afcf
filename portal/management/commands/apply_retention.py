import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.services import privacy
from portal.services.deadlines import PARIS

LABELS = {
    "login_attempts": "tentatives de connexion",
    "login_failures": "échecs de connexion journalisés",
    "logins": "connexions journalisées",
    "invitations": "invitations non utilisées et expirées",
    "emails": "e-mails envoyés ou en échec (destinataires, objet)",
    "stripe_events": "événements Stripe traités",
    "audit_entries": "entrées du journal des actions",
}


class Command(BaseCommand):
    help = ("Applique les durées de conservation des données personnelles "
            "(docs/data-protection.md) : anonymise les familles parties, efface les données de "
            "santé des enfants partis, supprime les tentatives de connexion, invitations, e-mails "
            "et entrées du journal trop anciens. À lancer chaque nuit ; une seconde exécution ne "
            "change plus rien.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Dire ce qui serait fait, sans rien changer.")
        parser.add_argument("--now", metavar="MOMENT",
                            help="Agir comme à ce moment, heure de Paris (ex. 2028-09-15T03:00).")

    def handle(self, *args, dry_run=False, now=None, **options):
        moment = self.moment(now) if now else timezone.now()
        run = privacy.apply_retention(now=moment, dry_run=dry_run)
        would = "serait" if dry_run else "est"
        self.stdout.write(("Simulation : rien n’est modifié.\n" if dry_run else "")
                          + f"Familles sans activité depuis le {run.family_cutoff:%d/%m/%Y} ; "
                          f"enfants sans réservation depuis le {run.health_cutoff:%d/%m/%Y}.")
        for pk, blockers in run.families:
            # Numbers only: this output ends up in the system's logs.
            self.stdout.write(f"Famille n° {pk} : {would} anonymisée."
                              + "".join(f"\n  - {b}" for b in blockers))
        for pk in run.children:
            self.stdout.write(f"Enfant n° {pk} : données de santé {'seraient' if dry_run else 'sont'} "
                              f"effacées.")
        for what, count in run.deleted.items():
            if count:
                self.stdout.write(f"{count} {LABELS[what]} {'à supprimer' if dry_run else 'supprimé(e)s'}.")
        self.stdout.write(self.style.SUCCESS(
            f"{len(run.families)} famille(s), {len(run.children)} enfant(s), "
            f"{sum(run.deleted.values())} ligne(s) ancienne(s)"
            + (" à traiter." if dry_run else " traitées.")))

    def moment(self, value):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--now : « {value} » n’est pas une date-heure ISO "
                               f"(2028-09-15T03:00).") from None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=PARIS)
        return moment
