"""Background tasks (django-tasks); a scheduler (cron, systemd timer) enqueues them: docs/deployment.md."""

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def reconcile_payments(days=3):
    """Credit paid Checkout Sessions whose webhook and return page were both missed."""
    import datetime

    from django.utils import timezone

    from portal.services.payments.webhook import reconcile

    report = reconcile(timezone.now() - datetime.timedelta(days=days))
    for problem in report["problems"]:
        logger.warning("Payment reconciliation: %s", problem)
    return {"checked": report["checked"], "credited": report["credited"], "expired": report["expired"],
            "refunded": report["refunded"],
            "problems": [str(p) for p in report["problems"]]}


def _moment(now):
    """Task arguments travel as JSON: a moment is an ISO 8601 string (None: now)."""
    import datetime

    return datetime.datetime.fromisoformat(now) if now else None


@task()
def send_deadline_reminders(now=None):
    """Remind families who booked nothing for next week (portal/services/notify.py)."""
    from portal.services import notify

    return notify.send_deadline_reminders(_moment(now))


@task()
def send_low_balance_alerts(now=None):
    """Alert families whose ticket balance is low (portal/services/notify.py)."""
    from portal.services import notify

    return notify.send_low_balance_alerts(_moment(now))


@task()
def send_tax_attestation_notices(now=None):
    """Tell families last year's tax attestation is ready, in January (portal/services/notify.py)."""
    from portal.services import notify

    return notify.send_tax_attestation_notices(_moment(now))


@task()
def sweep_closure(closure_id, user_id):
    """Apply a closure once more just after it was saved: a family's booking whose rules were
    read before the closure committed, and committed just after its cancellations, is
    cancelled too (apply_closure leaves everything else as it is)."""
    from django.db import transaction

    from portal.models import Closure, User
    from portal.services import closures

    with transaction.atomic():
        closure = Closure.objects.filter(pk=closure_id).first()
        if closure is None:
            return 0
        return len(closures.apply_closure(closure, by=User.objects.filter(pk=user_id).first()).cancelled)


@task()
def requeue_stranded_emails():
    """Give a task back to waiting e-mails that lost theirs (portal/services/mail.py)."""
    from portal.services import mail

    return mail.requeue_stranded()
