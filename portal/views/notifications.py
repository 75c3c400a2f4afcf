from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.forms import NotificationPreferencesForm
from portal.services import dossier, ical
from portal.services.access import access_family

from .forms_input import posted


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Which e-mails the family receives."""
    family = access_family(request.user)
    form = NotificationPreferencesForm(posted(request), instance=family)
    if request.method == "POST" and form.is_valid():
        try:
            dossier.update_family(family, form.cleaned_data, by=request.user,
                                  fields=list(form.cleaned_data))
        except dossier.DossierError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Vos choix d’e-mails sont enregistrés."))
            return redirect("portal:notifications")
    return render(request, "portal/family/notifications.html", {
        "form": form, "family": family,
        "recent": family.notifications.all()[:10],
        "feed_url": ical.feed_url(family),
    })


@login_required
@require_POST
def calendar_token(request):
    """Create or change the feed's address (the old one stops working), or delete it."""
    family = access_family(request.user)
    if request.POST.get("action") == "revoke":
        ical.revoke_token(family, by=request.user)
        messages.success(request, _("L’adresse de votre agenda est supprimée : il ne se met "
                                    "plus à jour."))
    else:
        ical.renew_token(family, by=request.user)
        messages.success(request, _("Nouvelle adresse créée ; l’ancienne ne fonctionne plus. "
                                    "Ajoutez-la à votre agenda."))
    return redirect("portal:notifications")


@require_GET
def calendar_feed(request, token):
    """The feed itself, read by calendar apps without a session: the token is the access."""
    family = ical.family_for_token(token)
    if family is None:
        raise Http404("Unknown or revoked calendar address.")
    response = HttpResponse(ical.family_calendar(family), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="planning.ics"'
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response
