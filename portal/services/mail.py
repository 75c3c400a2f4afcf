"""E-mails leave only once the transaction that caused them has committed."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string


def absolute_url(path):
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def send_after_commit(template, context, to):
    """Render portal/emails/<template>.txt (first line is the subject) and send it on commit."""
    text = render_to_string(f"portal/emails/{template}.txt", context)
    subject, _, body = text.strip().partition("\n")
    recipients = [to] if isinstance(to, str) else list(to)

    def send():
        send_mail(subject.strip(), body.strip() + "\n", None, recipients)

    transaction.on_commit(send)
