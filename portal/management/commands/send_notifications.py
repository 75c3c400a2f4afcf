from django.core.management.base import BaseCommand

from portal.tasks import send_deadline_reminders, send_low_balance_alerts


class Command(BaseCommand):
    help = ("Met en file l’envoi des rappels avant la date limite de réservation et des alertes de "
            "solde bas. À lancer toutes les heures (cron, minuterie systemd) : rien n’est envoyé "
            "deux fois, et les rappels ne partent qu’au jour et à l’heure choisis par la commune.")

    def handle(self, *args, **options):
        for task in (send_deadline_reminders, send_low_balance_alerts):
            result = task.enqueue()
            # The immediate backend (make run) has already run it: say what it sent.
            sent = f" : {result.return_value} e-mail(s)" if result.is_finished else ""
            self.stdout.write(f"{task.name} mise en file ({result.id}){sent}")
