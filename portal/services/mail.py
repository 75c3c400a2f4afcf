"""The one way Préau sends e-mail: queued with the action, sent by the task worker.

`send_after_commit` renders the message and stores it (OutgoingEmail) in the transaction of
the action that causes it, then, once that commits, enqueues the `send_email` task. No web
request talks to the mail server: a mail outage or a slow server cannot turn a saved action
into an error page or keep it waiting. The worker sends, retries after RETRY_DELAYS, and
marks the message failed after the last try; agents see waiting and failed messages in the
admin (E-mails) and can send them again.
"""

import base64
import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import TaskResultStatus, task
from django_tasks_db import DatabaseBackend

from portal.models import OutgoingEmail

logger = logging.getLogger(__name__)

# After the first try: 1 min, 5 min, 15 min, 1 h, 3 h, 6 h (about 10 h in all), then failed.
RETRY_DELAYS = [datetime.timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360)]
# A waiting message due this long ago with no task to send it lost its task (requeue_stranded).
STRANDED_AFTER = datetime.timedelta(minutes=5)


def absolute_url(path):
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def send_after_commit(template, context, to, *, attachments=()):
    """Render portal/emails/<template>.txt (first line is the subject) and queue it, in the
    town's language whatever the language of the request that caused it (an agent's or editor's
    admin may be in English; the families read French)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = render_to_string(f"portal/emails/{template}.txt", context)
    subject, _sep, body = text.strip().partition("\n")
    return queue_message(template, subject, body, to, attachments=attachments)


def queue_message(template, subject, body, to, *, attachments=()):
    """Store a message with the current transaction and have the worker send it once that
    commits. `template` names the kind of message; `attachments`: (filename, bytes, mimetype).
    Returns the OutgoingEmail, or None without a recipient."""
    recipients = [to] if isinstance(to, str) else [r for r in to if r]
    if not recipients:
        return None
    email = OutgoingEmail.objects.create(
        template=template, recipients=recipients, subject=" ".join(subject.split()),
        body=body.strip() + "\n",
        attachments=[{"filename": name, "mimetype": mimetype,
                      "content": base64.b64encode(content).decode("ascii")}
                     for name, content, mimetype in attachments])
    # robust: if the queue cannot be reached the action stays saved; the message waits in the
    # admin's list, from where an agent sends it again.
    transaction.on_commit(lambda: enqueue(email), robust=True)
    return email


def enqueue(email, run_after=None):
    """Hand the message to the worker (again). A backend without deferred tasks (the
    immediate one of `make run` and the tests) runs it at once and cannot schedule a retry."""
    if run_after is not None and not send_email.get_backend().supports_defer:
        return
    send = send_email if run_after is None else send_email.using(run_after=run_after)
    send.enqueue(email.pk)


def requeue_stranded(now=None):
    """Enqueue again the waiting messages that no task will send: their enqueue after the
    commit failed (the task table could not be written, the process died in between). Run
    hourly (`manage.py send_notifications`). Only messages due for STRANDED_AFTER and with no
    waiting or running task are taken; a message is sent once whatever the number of tasks
    (send_email locks its row and sends only a pending one). Returns how many."""
    cutoff = (now or timezone.now()) - STRANDED_AFTER
    due = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).filter(
        Q(next_attempt_at__isnull=True, created_at__lte=cutoff) | Q(next_attempt_at__lte=cutoff))
    stranded = set(due.values_list("pk", flat=True))
    if stranded and isinstance(send_email.get_backend(), DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=send_email.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        ).values_list("args_kwargs", flat=True)
        stranded -= {args["args"][0] for args in waiting if args.get("args")}
    for pk in sorted(stranded):
        logger.warning("E-mail %s was waiting without a task: enqueued again.", pk)
        send_email.enqueue(pk)
    return len(stranded)


def send_again(email):
    """An agent's "send again": a new series of tries for a waiting or failed message. None
    while the worker is sending it: its row stays locked as long as the mail server takes to
    answer (up to EMAIL_TIMEOUT), and the agent is told so instead of waiting for it."""
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(pk=email.pk).first()
        if email is None:
            return None
        if email.status == OutgoingEmail.Status.SENT:
            return email
        email.status = OutgoingEmail.Status.PENDING
        email.attempts = 0
        email.next_attempt_at = None
        email.save(update_fields=["status", "attempts", "next_attempt_at"])
        transaction.on_commit(lambda: enqueue(email), robust=True)
    return email


@task()
def send_email(email_id):
    """Send one queued message (the worker runs this). The row stays locked while the mail
    server is talked to, so two workers never send the same message twice."""
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != OutgoingEmail.Status.PENDING:
            return "skipped"
        message = EmailMultiAlternatives(email.subject, email.body, None, email.recipients)
        for item in email.attachments:
            message.attach(item["filename"], base64.b64decode(item["content"]), item["mimetype"])
        email.attempts += 1
        try:
            message.send()
        except Exception as exc:  # noqa: BLE001 - any failure of the mail server or provider
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts <= len(RETRY_DELAYS):
                email.next_attempt_at = timezone.now() + RETRY_DELAYS[email.attempts - 1]
                transaction.on_commit(lambda: enqueue(email, run_after=email.next_attempt_at))
                logger.warning("E-mail %s not sent (try %d): %s; next try at %s.", email.pk,
                               email.attempts, email.last_error, email.next_attempt_at)
            else:
                email.status = OutgoingEmail.Status.FAILED
                email.next_attempt_at = None
                logger.error("E-mail %s not sent after %d tries: %s.", email.pk, email.attempts,
                             email.last_error)
            email.save()
            return "retry" if email.status == OutgoingEmail.Status.PENDING else "failed"
        email.status = OutgoingEmail.Status.SENT
        email.sent_at = timezone.now()
        email.next_attempt_at = None
        email.body = ""
        email.attachments = []
        email.save()
        return "sent"
