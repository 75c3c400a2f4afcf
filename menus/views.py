"""Admin view: create next week's menu from an existing one (dates shifted, same dishes)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from .models import WeekMenu
from .services import MenuCopyError, copy_to_next_week


class CopyWeekForm(forms.Form):
    source = forms.ModelChoiceField(
        label=gettext_lazy("Menu à copier"),
        queryset=WeekMenu.objects.select_related("school").order_by("-week", "school__name"),
        help_text=gettext_lazy("Le menu de la semaine suivante est créé avec les mêmes plats, "
                               "jour par jour. Vous pourrez ensuite le modifier."),
        error_messages={"invalid_choice": gettext_lazy("Ce menu n’existe plus : choisissez-en un "
                                                       "autre.")},
    )


class CopyWeekView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    model = WeekMenu
    permission_required = "add"
    form_class = CopyWeekForm
    template_name = "wagtailadmin/generic/form.html"
    page_title = gettext_lazy("Copier la semaine précédente")
    header_icon = "copy"
    index_url_name = None
    edit_url_name = None

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": WeekMenu._meta.verbose_name_plural},
            {"url": "", "label": self.page_title},
        ]

    @cached_property
    def requested_source(self):
        pk = self.request.GET.get("source", "")
        menus = WeekMenu.objects.all()
        return (menus.filter(pk=pk).first() if pk.isdigit() else None) or menus.order_by("-week").first()

    def get_initial(self):
        return {"source": self.requested_source}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(action_url=self.request.path, submit_button_label=_("Créer la semaine suivante"),
                       submit_button_active_label=_("Création…"))
        return context

    def form_valid(self, form):
        try:
            menu = copy_to_next_week(form.cleaned_data["source"])
        except MenuCopyError as error:
            form.add_error("source", str(error))
            return self.form_invalid(form)
        messages.success(self.request, _("%(menu)s créé : vérifiez-le puis enregistrez vos "
                                         "changements.") % {"menu": menu})
        return redirect(self.edit_url_name, menu.pk)
