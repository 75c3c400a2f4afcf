import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.payments import ProviderError
from portal.services.payments.webhook import reconcile


class Command(BaseCommand):
    help = ("Rapproche les paiements : lit les sessions de paiement récentes chez Stripe, crédite celles "
            "qui sont payées mais n’ont pas été créditées, signale les écarts.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=3, help="Sessions créées depuis N jours (3).")
        parser.add_argument("--enqueue", action="store_true",
                            help="Mettre la tâche en file (django-tasks) au lieu de l’exécuter ici.")

    def handle(self, *args, days, enqueue, **options):
        if not 1 <= days <= 60:
            raise CommandError("--days doit être entre 1 et 60.")
        if enqueue:
            from portal.tasks import reconcile_payments

            result = reconcile_payments.enqueue(days=days)
            self.stdout.write(f"Tâche mise en file : {result.id}")
            return
        try:
            report = reconcile(timezone.now() - datetime.timedelta(days=days))
        except ProviderError as exc:
            raise CommandError(f"Le prestataire de paiement ne répond pas : {exc}") from exc
        self.stdout.write(f"{report['checked']} session(s) lue(s), {report['credited']} paiement(s) "
                          f"crédité(s) en rattrapage, {report['expired']} expirée(s), "
                          f"{report['refunded']} remboursement(s) Stripe rattrapé(s).")
        for problem in report["problems"]:
            self.stdout.write(self.style.WARNING(f"Écart : {problem}"))
        if not report["problems"]:
            self.stdout.write(self.style.SUCCESS("Aucun écart."))
