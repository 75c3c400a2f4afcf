"""Agents' second factor (TOTP), asked before the Wagtail admin and before any portal view
that shows staff another family's data, when PREAU_ADMIN_REQUIRE_2FA is on."""

import base64

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from portal.forms import OTPTokenForm
from portal.services import second_factor

from .forms_input import posted

# Set once the agent typed the code mailed to them: only then is a first TOTP device shown.
MAILBOX_PROVEN = "preau_otp_mailbox_proven"


def _next_url(request):
    url = request.POST.get("next") or request.GET.get("next") or "/admin/"
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return url
    return "/admin/"


def _here(request):
    return f"{request.path}?{urlencode({'next': _next_url(request)})}"


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = second_factor.confirmed_totp(request.user)
    if device is None and request.session.get(MAILBOX_PROVEN) != request.user.pk:
        return _mailbox_step(request)
    enrolling = device is None
    if enrolling:
        device = second_factor.enrolment_device(request.user)
    form = OTPTokenForm(posted(request))
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            form.add_error("token", _("Trop d’essais : attendez quelques instants avant de "
                                      "réessayer."))
        elif device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            if enrolling:
                second_factor.confirm_enrolment(device)
                request.session.pop(MAILBOX_PROVEN, None)
            otp_login(request, device)
            messages.success(request, _("Double authentification vérifiée."))
            return redirect(_next_url(request))
        else:
            form.add_error("token", _("Ce code n’est pas valide. Vérifiez l’heure de votre "
                                      "téléphone et saisissez le code affiché maintenant."))
    context = {"form": form, "enrolling": enrolling, "next": _next_url(request)}
    if enrolling:
        # The QR code is inline SVG markup generated here: no script, no external image.
        context["qr_svg"] = mark_safe(segno.make(device.config_url, error="m").svg_inline(
            scale=4, omitsize=False))
        context["secret"] = base64.b32encode(device.bin_key).decode()
    return render(request, "portal/account/otp_verify.html", context)


def _mailbox_step(request):
    """First enrolment: a code mailed to the agent's own address before any QR code, so a
    stolen password alone cannot register the thief's authenticator."""
    user = request.user
    form = OTPTokenForm(posted(request) if "token" in request.POST else None)
    form.fields["token"].label = _("Code reçu par e-mail")
    if request.method == "POST" and "send" in request.POST:
        try:
            second_factor.send_enrolment_code(user)
        except second_factor.SecondFactorError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Un code a été envoyé à %(email)s.") % {"email": user.email})
        return redirect(_here(request))
    if request.method == "POST" and form.is_valid():
        try:
            proven = second_factor.check_enrolment_code(user, form.cleaned_data["token"].strip())
        except second_factor.SecondFactorError as error:
            form.add_error("token", str(error))
        else:
            if proven:
                request.session[MAILBOX_PROVEN] = user.pk
                return redirect(_here(request))
            form.add_error("token", _("Ce code n’est pas valide ou a expiré : demandez-en un "
                                      "nouveau."))
    return render(request, "portal/account/otp_mailbox.html", {
        "form": form, "next": _next_url(request), "email": user.email,
        "code_sent": second_factor.code_pending(user),
        "minutes": second_factor.ENROLMENT_CODE_MINUTES,
    })
