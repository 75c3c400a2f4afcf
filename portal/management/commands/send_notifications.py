import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.services import deadlines, notify
from portal.services.rollover import send_renewal_requests
from portal.tasks import (
    requeue_stranded_emails,
    send_deadline_reminders,
    send_low_balance_alerts,
    send_tax_attestation_notices,
)


class Command(BaseCommand):
    help = ("Met en file l’envoi des rappels avant la date limite de réservation et des alertes de "
            "solde bas. À lancer toutes les heures (cron, minuterie systemd) : rien n’est envoyé "
            "deux fois, et les rappels ne partent qu’au jour et à l’heure choisis par la commune. "
            "De janvier à juin, prévient une fois chaque famille que son attestation de frais de "
            "garde de l’année passée est prête. Envoie les demandes de renouvellement de dossier d’un "
            "passage d’année dont l’envoi n’a pas eu lieu. "
            "Remet aussi en file les e-mails en attente restés sans tâche d’envoi.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", metavar="MOMENT",
            help=("Pour essayer (démo) : agir comme à ce moment, heure de Paris (ex. "
                  "2026-12-08T18:05), ou « rappel » : à l’heure des rappels de cette semaine si "
                  "elle n’est pas encore passée, sinon maintenant."))

    def handle(self, *args, now=None, **options):
        moment = self.moment(now) if now else None
        if moment is not None:
            self.stdout.write(f"Comme le {timezone.localtime(moment, deadlines.PARIS):%d/%m/%Y à %H:%M} "
                              f"(heure de Paris).")
        for task in (send_deadline_reminders, send_low_balance_alerts, send_tax_attestation_notices):
            result = task.enqueue(moment.isoformat() if moment else None)
            # The immediate backend (make run) has already run it: say what it sent.
            sent = f" : {result.return_value} e-mail(s)" if result.is_finished else ""
            self.stdout.write(f"{task.name} mise en file ({result.id}){sent}")
        # A rollover whose renewal e-mails were never sent (its task lost): sent now, once.
        result = send_renewal_requests.enqueue()
        sent = f" : {result.return_value} e-mail(s)" if result.is_finished else ""
        self.stdout.write(f"{send_renewal_requests.name} mise en file ({result.id}){sent}")
        # Not a family notification: e-mails of any kind whose task was lost (mail.requeue_stranded).
        result = requeue_stranded_emails.enqueue()
        again = f" : {result.return_value} e-mail(s) remis en file" if result.is_finished else ""
        self.stdout.write(f"{requeue_stranded_emails.name} mise en file ({result.id}){again}")

    def moment(self, value):
        if value.strip().lower() in ("rappel", "reminder"):
            return max(timezone.now(), notify.reminder_time_this_week(timezone.now()))
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--now : « {value} » n’est ni une date-heure ISO (2026-12-08T18:05) "
                               f"ni « rappel ».") from None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=deadlines.PARIS)
        return moment
