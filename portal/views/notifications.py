from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.forms import NotificationPreferencesForm
from portal.services import dossier
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
    })
