"""Accounts: families created by agents, invitations, self sign-up, e-mail changes."""

import datetime
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from portal.models import Family, Invitation
from portal.models.account import hash_token

from .audit import record_action, snapshot
from .mail import absolute_url, send_after_commit

FAMILY_FIELDS = ("name", "address", "postcode", "city", "phone", "phone_secondary",
                 "email_reminders", "email_news", "status")
EMAIL_CHANGE_SALT = "portal.email-change"
EMAIL_CHANGE_MAX_AGE = 24 * 3600


class AccountError(Exception):
    """A refusal with a message meant for the person who asked."""


def _new_user(email, first_name="", last_name=""):
    User = get_user_model()
    user = User(email=User.objects.normalize_email(email).lower(), first_name=first_name,
                last_name=last_name)
    # Nobody, not even the agent, knows a password: the guardian chooses it from the invitation.
    user.set_unusable_password()
    user.save()
    return user


def _guardian(email, first_name="", last_name="", *, family=None):
    _check_guardian(email, family)
    existing = get_user_model().objects.filter(email__iexact=email.strip()).first()
    return existing or _new_user(email.strip(), first_name, last_name)


def _check_guardian(email, family=None):
    existing = get_user_model().objects.filter(email__iexact=email.strip()).first()
    if existing is None:
        return
    # One login, one family: the portal shows a guardian their single household.
    other = existing.families.exclude(pk=getattr(family, "pk", None)).first()
    if other is not None:
        raise AccountError(_("L’adresse %(email)s est déjà responsable de la famille "
                             "« %(family)s ».") % {"email": existing.email, "family": other.name})
    if existing.is_staff:
        raise AccountError(_("L’adresse %(email)s est celle d’un agent ou d’un éditeur : "
                             "utilisez une adresse personnelle.") % {"email": existing.email})


def guardian_problem(email, family=None):
    """Why this address cannot become a guardian (of this family), or None."""
    try:
        _check_guardian(email, family)
    except AccountError as error:
        return str(error)
    return None


def invite_guardian(user, family, *, by=None):
    """Replace any pending invitation of this user by a fresh one and e-mail its link."""
    now = timezone.now()
    Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now)
    raw_token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user, family=family, token_hash=hash_token(raw_token), created_by=by,
        expires_at=now + datetime.timedelta(hours=settings.PREAU_INVITATION_VALIDITY_HOURS),
    )
    send_after_commit("invitation", {
        "user": user, "family": family, "expires_at": invitation.expires_at,
        "url": absolute_url(reverse("portal:invitation", args=[raw_token])),
    }, user.email)
    return invitation


@transaction.atomic
def create_family(*, name, guardians, by, **fields):
    """An agent creates a family and its guardians (dicts with email, first_name, last_name)."""
    if not guardians:
        raise AccountError(_("Indiquez au moins un responsable."))
    family = Family.objects.create(name=name, status=Family.Status.INVITED, **fields)
    for data in guardians:
        add_guardian(family, data["email"], data.get("first_name", ""), data.get("last_name", ""),
                     by=by)
    record_action(by, "family.create", family, target=family,
                  after=snapshot(family, FAMILY_FIELDS) | {
                      "guardians": [g["email"] for g in guardians]})
    return family


@transaction.atomic
def add_guardian(family, email, first_name="", last_name="", *, by):
    if family.guardians.count() >= 2 and not family.guardians.filter(email__iexact=email).exists():
        raise AccountError(_("Une famille a au plus deux responsables."))
    user = _guardian(email, first_name, last_name, family=family)
    family.guardians.add(user)
    if not user.has_usable_password():
        invite_guardian(user, family, by=by)
    return user


@transaction.atomic
def resend_invitations(family, *, by):
    """Send a new link to each guardian who has not chosen a password yet."""
    pending = [u for u in family.guardians.all() if not u.has_usable_password()]
    if not pending:
        raise AccountError(_("Tous les responsables ont déjà choisi leur mot de passe ; "
                             "utilisez plutôt « Réinitialiser le mot de passe »."))
    invitations = [invite_guardian(user, family, by=by) for user in pending]
    # Only the newest invitation of each guardian works; older links now say so.
    record_action(by, "family.invite", family, target=family,
                  after={"to": [u.email for u in pending]})
    return invitations


def find_invitation(raw_token):
    """The invitation for this link, or AccountError saying in French why it cannot be used."""
    invitation = (Invitation.objects.select_related("user", "family")
                  .filter(token_hash=hash_token(raw_token or "")).first())
    if invitation is None:
        raise AccountError(_("Ce lien d’invitation n’est pas valide. Vérifiez qu’il est complet "
                             "ou demandez un nouveau lien à la mairie."))
    if invitation.used_at is not None:
        raise AccountError(_("Ce lien d’invitation a déjà été utilisé. Connectez-vous avec votre "
                             "adresse e-mail et votre mot de passe."))
    if invitation.revoked_at is not None:
        raise AccountError(_("Ce lien a été remplacé par une invitation plus récente : "
                             "utilisez le dernier e-mail reçu."))
    if invitation.is_expired:
        raise AccountError(_("Ce lien d’invitation a expiré (il est valable 72 heures). "
                             "Demandez à la mairie de vous en renvoyer un."))
    return invitation


@transaction.atomic
def accept_invitation(raw_token, password):
    """Set the guardian's password from a valid invitation; the link then stops working."""
    invitation = find_invitation(raw_token)
    # Lock, then re-check: two tabs submitting the same link must not both succeed.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise AccountError(_("Ce lien d’invitation a déjà été utilisé."))
    user = invitation.user
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    family = invitation.family
    if family is not None and family.status == Family.Status.INVITED:
        family.status = Family.Status.INCOMPLETE
        family.save(update_fields=["status", "updated_at"])
    record_action(user, "account.activate", family, target=user.email)
    return user


def signup_enabled():
    return bool(settings.PREAU_SIGNUP_TOWN_CODE)


@transaction.atomic
def register_with_town_code(*, email, first_name, last_name, family_name, town_code):
    """Self sign-up, when the town allows it. Never says whether the address already exists."""
    if not signup_enabled():
        raise AccountError(_("L’inscription en ligne n’est pas ouverte : la mairie crée les "
                             "comptes des familles."))
    if not hmac.compare_digest(town_code.strip().upper(),
                               settings.PREAU_SIGNUP_TOWN_CODE.strip().upper()):
        raise AccountError(_("Le code commune est incorrect. Il figure sur le courrier de la "
                             "mairie."))
    User = get_user_model()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        send_after_commit("signup_existing", {
            "user": existing, "url": absolute_url(reverse("portal:password_reset")),
        }, existing.email)
        return None
    family = Family.objects.create(name=family_name, status=Family.Status.INVITED,
                                   self_registered=True)
    user = _new_user(email, first_name, last_name)
    family.guardians.add(user)
    invite_guardian(user, family)
    record_action(None, "family.signup", family, target=family,
                  after={"name": family_name, "guardians": [user.email]})
    return family


def send_password_reset(user, *, by=None, family=None):
    """Agent-triggered reset: the agent never sees or sets the password."""
    if not user.has_usable_password():
        raise AccountError(_("Ce responsable n’a pas encore choisi de mot de passe : "
                             "renvoyez plutôt l’invitation."))
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    send_after_commit("password_reset", {
        "user": user,
        "url": absolute_url(reverse("portal:password_reset_confirm", args=[uid, token])),
    }, user.email)
    record_action(by, "account.password_reset", family, target=user.email)


def request_email_change(user, new_email):
    """Send a confirmation link to the new address; nothing changes until it is followed."""
    new_email = get_user_model().objects.normalize_email(new_email).strip().lower()
    User = get_user_model()
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        send_after_commit("email_change_taken", {"email": new_email}, new_email)
        return
    token = signing.dumps({"user": user.pk, "email": new_email}, salt=EMAIL_CHANGE_SALT)
    send_after_commit("email_change", {
        "user": user, "url": absolute_url(reverse("portal:email_change_confirm", args=[token])),
    }, new_email)


@transaction.atomic
def confirm_email_change(user, token):
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise AccountError(_("Ce lien de confirmation a expiré (24 heures). Recommencez le "
                             "changement d’adresse.")) from exc
    except signing.BadSignature as exc:
        raise AccountError(_("Ce lien de confirmation n’est pas valide.")) from exc
    if data.get("user") != user.pk:
        raise AccountError(_("Ce lien de confirmation concerne un autre compte."))
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    if User.objects.filter(email__iexact=data["email"]).exclude(pk=user.pk).exists():
        raise AccountError(_("Cette adresse est déjà utilisée par un autre compte."))
    old_email = user.email
    if old_email == data["email"]:
        return user
    user.email = data["email"]
    user.save(update_fields=["email"])
    send_after_commit("email_changed", {"user": user, "new_email": user.email}, old_email)
    for family in user.families.all():
        record_action(user, "account.email_change", family, target=user,
                      before={"email": old_email}, after={"email": user.email})
    return user

