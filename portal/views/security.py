"""Agents' second factor (TOTP) before the Wagtail admin, when PREAU_ADMIN_REQUIRE_2FA is on."""

import base64

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.forms import OTPTokenForm

from .access import posted


def _next_url(request):
    url = request.POST.get("next") or request.GET.get("next") or "/admin/"
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return url
    return "/admin/"


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device, _created = TOTPDevice.objects.get_or_create(
            user=request.user, confirmed=False, defaults={"name": "Préau"})
    form = OTPTokenForm(posted(request))
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            form.add_error("token", _("Trop d’essais : attendez quelques instants avant de "
                                      "réessayer."))
        elif device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
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
