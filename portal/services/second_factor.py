"""Agents' second factor: a first TOTP enrolment is not first-come. Whoever holds the password
must first prove they read the agent's mailbox with a code sent there."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import record_action
from .mail import send_after_commit

ENROLMENT_CODE_MINUTES = 15


class SecondFactorError(Exception):
    """A refusal with a message meant for the agent."""


def confirmed_totp(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _mailbox_device(user):
    device, _created = EmailDevice.objects.get_or_create(
        user=user, name="enrolment", defaults={"confirmed": False})
    return device


def code_pending(user):
    """Whether a mailed enrolment code is still waiting to be typed."""
    device = EmailDevice.objects.filter(user=user, name="enrolment").first()
    return bool(device and device.token and device.valid_until > timezone.now())


@transaction.atomic
def send_enrolment_code(user):
    """Mail a one-time code to the agent's own address (not more than once a minute)."""
    device = _mailbox_device(user)
    device = EmailDevice.objects.select_for_update().get(pk=device.pk)
    allowed, _details = device.generate_is_allowed()
    if not allowed:
        raise SecondFactorError(_("Un code vient d’être envoyé : attendez une minute avant d’en "
                                  "demander un autre."))
    device.cooldown_set(commit=False)
    device.generate_token(valid_secs=ENROLMENT_CODE_MINUTES * 60, commit=True)
    send_after_commit("otp_enrolment_code", {"user": user, "code": device.token,
                                             "minutes": ENROLMENT_CODE_MINUTES}, user.email)


def check_enrolment_code(user, code):
    """True when `code` is the one mailed to the agent (wrong tries slow further tries down)."""
    device = EmailDevice.objects.filter(user=user, name="enrolment").first()
    if device is None:
        return False
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise SecondFactorError(_("Trop d’essais : attendez quelques instants avant de "
                                  "réessayer."))
    return device.verify_token(code)


def enrolment_device(user):
    """The unconfirmed TOTP device the agent scans (created once, kept until confirmed)."""
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Préau"})
    return device


def confirm_enrolment(device):
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_action(device.user, "account.otp_enrol", None, target=device.user.email)
