"""The agent's school-year rollover assistant: a form, the preview of what will be done, then
the same plan applied (portal/services/rollover.py holds every rule)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.forms import IsoDateInput
from portal.models import AuditLog, School, SchoolYear
from portal.services import rollover
from portal.services.town import town_settings

PERMISSION = "portal.add_schoolyear"


class RolloverForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nouvelle année scolaire"), max_length=20,
                           help_text=gettext_lazy("Ex. 2027-2028"))
    start = forms.DateField(label=gettext_lazy("Rentrée"), widget=IsoDateInput())
    end = forms.DateField(label=gettext_lazy("Fin des cours"), widget=IsoDateInput())
    zone = forms.ChoiceField(label=gettext_lazy("Zone des vacances scolaires"),
                             choices=[("A", "A"), ("B", "B"), ("C", "C")])
    # The preview's fingerprint: apply refuses if the situation changed since it was shown.
    fingerprint = forms.CharField(required=False, widget=forms.HiddenInput())

    def clean(self):
        """cleaned_data["carry"]: the ids of the services ticked in the preview, or None before
        the preview showed them (the template's « services_shown » marks that they were shown:
        no box ticked is a choice too)."""
        data = super().clean()
        ticked = self.data.getlist("services") if hasattr(self.data, "getlist") else []
        data["carry"] = None
        if ticked or self.data.get("services_shown"):
            try:
                data["carry"] = {int(value) for value in ticked}
            except ValueError:
                raise ValidationError(_("Le choix des prestations à prolonger n’est pas lisible : "
                                        "revoyez l’aperçu.")) from None
        return data


def rollover_view(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    town = town_settings(request)
    zone = (town.holiday_zone if town else "") or "B"
    latest = SchoolYear.objects.order_by("-start").first()
    initial = {"zone": zone}
    if latest is not None:
        initial["name"], initial["start"], initial["end"] = rollover.suggested_year(zone, latest)
    form = RolloverForm(request.POST or None, initial=initial)
    plan = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        args = (d["name"], d["start"], d["end"], d["zone"])
        try:
            if request.POST.get("action") == "apply":
                plan = rollover.apply(*args, by=request.user, expected=d["fingerprint"],
                                      carry=d["carry"])
                messages.success(request, _("Année %(year)s prête : %(summary)s")
                                 % {"year": plan.name, "summary": describe(plan)})
                return redirect(reverse("portal_school_years:rollover"))
            plan = rollover.preview(*args, carry=d["carry"])
        except rollover.PlanChanged as changed:
            plan = changed.plan
            messages.warning(request, _("L’aperçu a changé depuis que vous l’avez vu (prestations "
                                        "cochées ou décochées, un enfant, une pièce ou une fermeture "
                                        "ajoutés…) : rien n’est appliqué. Voici l’aperçu à jour : "
                                        "vérifiez-le avant d’appliquer."))
        except rollover.RolloverError as error:
            form.add_error(None, str(error))
        if plan is not None:  # the apply button sends what this preview showed
            form = RolloverForm(initial={**d, "fingerprint": plan.fingerprint()})
    renewal = AuditLog.objects.filter(action=rollover.RENEWAL_ACTION).order_by("-created_at").first()
    return TemplateResponse(request, "portal/admin/rollover.html", {
        "page_title": _("Passer à l’année scolaire suivante"), "header_icon": "date",
        "form": form, "plan": plan,
        "schools": [(school, school.class_map) for school in School.objects.order_by("name")],
        # What the families were told by the worker after the last apply (send_renewal_requests),
        # and what became of those e-mails: the page says what really happened.
        "renewal": renewal, "delivery": rollover.renewal_delivery(renewal) if renewal else None,
    })


def describe(plan):
    if plan.is_empty:
        return _("rien de plus à faire, tout était déjà fait.")
    return _("%(closures)d fermeture(s) importée(s), %(moved)d enfant(s) passé(s) dans la classe "
             "suivante, %(leaving)d départ(s), %(renew)d pièce(s) à renouveler, %(families)d "
             "famille(s) invitée(s) à accepter le règlement. Les familles concernées reçoivent "
             "un e-mail qui dit ce qu’elles doivent faire.") % {
        "closures": len(plan.closures), "moved": len(plan.moves) - len(plan.leaving),
        "leaving": len(plan.leaving), "renew": sum(plan.to_renew.values()),
        "families": plan.families_to_accept} + services_said(plan)


def services_said(plan):
    if not plan.service_choices:
        return ""
    return " " + _("Prestations prolongées : %(carried)s. Laissées finir à leur date : %(left)s.") % {
        "carried": ", ".join(name for name, _end in plan.services) or _("aucune"),
        "left": ", ".join(name for name, _end in plan.services_left) or _("aucune")}
