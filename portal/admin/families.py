"""Agents' back office in the Wagtail admin: families, children, files, schools, audit log."""

from urllib.parse import urlencode

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from portal.admin import rollover
from portal.admin.listing import CappedCountMixin, StreamingExportMixin
from portal.forms import IsoDateInput, ReasonForm
from portal.models import (
    AuditLog,
    Child,
    Family,
    FileItem,
    FileRequirement,
    School,
    SchoolYear,
)
from portal.services import accounts, dossier, family_search, privacy, waitlist
from portal.services.access import ANONYMISE_PERMISSION, HEALTH_PERMISSION, REVIEW_PERMISSION
from portal.services.dossier import FAMILY_EDIT_FIELDS, TARIFF_FIELDS
from portal.services.payments import purchases
from portal.views.family import private_file_response
from portal.views.personal_data import personal_data_response

# Families ------------------------------------------------------------------------------------

class FamilyFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=_("État du dossier"), choices=Family.Status.choices)
    school = django_filters.ModelChoiceFilter(
        label=_("École"), queryset=School.objects.all(), field_name="children__school",
        distinct=True)
    self_registered = django_filters.BooleanFilter(label=_("Inscrite par elle-même"))

    class Meta:
        model = Family
        fields = ["status"]


class FamilyEditForm(WagtailAdminModelForm):
    def clean_quotient_document(self):
        upload = self.cleaned_data.get("quotient_document")
        if upload and hasattr(upload, "content_type"):
            dossier.validate_upload(upload)
        return upload


class TariffForm(forms.ModelForm):
    """The tariff part of the family, set from the file review."""

    class Meta:
        model = Family
        fields = list(TARIFF_FIELDS)
        # A plain file input: the clearable one links to the file, and private files have no URL.
        widgets = {"quotient_date": IsoDateInput(), "quotient_document": forms.FileInput()}

    clean_quotient_document = FamilyEditForm.clean_quotient_document


class FamilyCreateForm(FamilyEditForm):
    """An agent types the family and its guardians; the guardians then get an invitation."""

    guardian1_email = forms.EmailField(label=_("E-mail du premier responsable"))
    guardian1_first_name = forms.CharField(label=_("Prénom"), max_length=150, required=False)
    guardian1_last_name = forms.CharField(label=_("Nom"), max_length=150, required=False)
    guardian2_email = forms.EmailField(label=_("E-mail du second responsable"), required=False)
    guardian2_first_name = forms.CharField(label=_("Prénom"), max_length=150, required=False)
    guardian2_last_name = forms.CharField(label=_("Nom"), max_length=150, required=False)

    class Meta:
        model = Family
        fields = ["name", "address", "postcode", "city", "phone", *TARIFF_FIELDS]

    def clean(self):
        data = super().clean()
        first, second = data.get("guardian1_email"), data.get("guardian2_email")
        if first and second and first.lower() == second.lower():
            self.add_error("guardian2_email", _("Les deux responsables ont la même adresse."))
        for n in (1, 2):
            email = data.get(f"guardian{n}_email")
            if email and (error := accounts.guardian_problem(email)):
                self.add_error(f"guardian{n}_email", error)
        return data

    def guardians(self):
        result = []
        for n in (1, 2):
            email = self.cleaned_data.get(f"guardian{n}_email")
            if email:
                result.append({"email": email,
                               "first_name": self.cleaned_data.get(f"guardian{n}_first_name", ""),
                               "last_name": self.cleaned_data.get(f"guardian{n}_last_name", "")})
        return result


class GuardianForm(forms.Form):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)


class FamilyCreateView(generic.CreateView):
    def save_instance(self):
        data = {k: v for k, v in self.form.cleaned_data.items()
                if not k.startswith("guardian") and k not in TARIFF_FIELDS}
        name = data.pop("name")
        family = accounts.create_family(name=name, guardians=self.form.guardians(),
                                        by=self.request.user, **data)
        tariff = {k: self.form.cleaned_data[k] for k in TARIFF_FIELDS}
        if any(tariff.values()):
            dossier.update_family(family, tariff, by=self.request.user, by_agent=True)
        return family

    def get_success_message(self, instance):
        return gettext("Famille « %(name)s » créée : l’invitation est envoyée à %(emails)s.") % {
            "name": instance.name,
            "emails": ", ".join(g.email for g in instance.guardians.all())}

    def get_success_url(self):
        return reverse("portal_families:review", args=[self.object.pk])


class FamilyEditView(generic.EditView):
    def save_instance(self):
        fields = [f for f in FAMILY_EDIT_FIELDS + TARIFF_FIELDS if f in self.form.cleaned_data]
        try:
            return dossier.update_family(self.object, self.form.cleaned_data, by=self.request.user,
                                         fields=fields, by_agent=True)
        except dossier.DossierError as error:
            raise PermissionDenied(str(error)) from error

    @cached_property
    def header_buttons(self):
        return [HeaderButton(_("Examiner le dossier"), icon_name="folder-open-inverse",
                             url=reverse("portal_families:review", args=[self.object.pk]))]


class FamilyIndexView(StreamingExportMixin, generic.IndexView):
    def get_base_queryset(self):
        return (super().get_base_queryset().annotate(children_count=Count("children"))
                .prefetch_related("guardians"))

    def search_queryset(self, queryset):
        # One box for what agents are asked at the counter: names, phone, e-mail.
        return family_search.search_families(queryset, self.search_query)

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.request.user.has_perm(REVIEW_PERMISSION):
            buttons.append(MenuItem(_("Examiner le dossier"), icon_name="folder-open-inverse",
                                    url=reverse("portal_families:review", args=[instance.pk]),
                                    priority=5))
        return buttons


def guardians_column(family):
    return ", ".join(g.email for g in family.guardians.all())


TARIFF_PANEL = MultiFieldPanel([
    FieldPanel("tariff_bracket"),
    FieldRowPanel([FieldPanel("quotient"), FieldPanel("quotient_date")]),
    FieldPanel("quotient_document", widget=forms.FileInput()),
], heading=_("Tarif (quotient familial)"))


class FamilyViewSet(ModelViewSet):
    model = Family
    icon = "group"
    menu_label = _("Familles")
    name = "portal_families"
    url_prefix = "familles"
    index_view_class = FamilyIndexView
    add_view_class = FamilyCreateView
    edit_view_class = FamilyEditView
    filterset_class = FamilyFilterSet
    search_fields = ["name", "guardians__email", "guardians__last_name", "children__last_name",
                     "children__first_name"]
    list_display = [
        "name", "status",
        Column("guardians", label=_("Responsables"), accessor=guardians_column),
        Column("children_count", label=_("Enfants")),
        "updated_at",
    ]
    list_export = ["name", "status", "address", "postcode", "city", "phone", "phone_secondary",
                   "guardians_emails", "children_count", "self_registered", "created_at"]
    export_headings = {"guardians_emails": _("Responsables"), "children_count": _("Enfants")}
    export_filename = "familles"
    copy_view_enabled = False
    ordering = ["name"]
    panels = [
        FieldPanel("name"),
        MultiFieldPanel([FieldPanel("address"), FieldRowPanel([FieldPanel("postcode"),
                                                                 FieldPanel("city")])],
                        heading=_("Adresse")),
        FieldRowPanel([FieldPanel("phone"), FieldPanel("phone_secondary")]),
        TARIFF_PANEL,
        MultiFieldPanel([FieldPanel("email_reminders"), FieldPanel("email_low_balance"),
                         FieldPanel("email_bookings"), FieldPanel("email_file"),
                         FieldPanel("email_news")], heading=_("E-mails que la famille reçoit")),
    ]

    create_panels = [
        FieldPanel("name"),
        MultiFieldPanel([FieldPanel("guardian1_email"),
                         FieldRowPanel([FieldPanel("guardian1_first_name"),
                                        FieldPanel("guardian1_last_name")])],
                        heading=_("Premier responsable (reçoit l’invitation)")),
        MultiFieldPanel([FieldPanel("guardian2_email"),
                         FieldRowPanel([FieldPanel("guardian2_first_name"),
                                        FieldPanel("guardian2_last_name")])],
                        heading=_("Second responsable (facultatif)")),
        MultiFieldPanel([FieldPanel("address"), FieldRowPanel([FieldPanel("postcode"),
                                                                 FieldPanel("city")])],
                        heading=_("Adresse")),
        FieldPanel("phone"),
        TARIFF_PANEL,
    ]

    def get_edit_handler(self):
        return ObjectList(self.panels, base_form_class=FamilyEditForm).bind_to_model(Family)

    @cached_property
    def _create_handler(self):
        return ObjectList(self.create_panels, base_form_class=FamilyCreateForm).bind_to_model(
            Family)

    def get_add_view_kwargs(self, **kwargs):
        return super().get_add_view_kwargs(panel=self._create_handler,
                                           form_class=self._create_handler.get_form_class(),
                                           **kwargs)

    @property
    def review_view(self):
        return FamilyReviewView.as_view(viewset=self)

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("<int:pk>/dossier/", self.review_view, name="review"),
            path("<int:pk>/quotient/", quotient_document_view, name="quotient_document"),
            path("<int:pk>/anonymiser/", FamilyAnonymiseView.as_view(viewset=self), name="anonymise"),
            path("<int:pk>/donnees.json", family_data_view, name="personal_data"),
        ]


def quotient_document_view(request, pk):
    if not request.user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied
    family = get_object_or_404(Family, pk=pk)
    if not family.quotient_document:
        raise Http404
    return private_file_response(family.quotient_document, gettext("quotient-familial"))


def family_data_view(request, pk):
    """The family's data file, as the family downloads it: for a request made at the town hall.
    It holds health data, so both permissions are needed."""
    if not (request.user.has_perm(REVIEW_PERMISSION) and request.user.has_perm(HEALTH_PERMISSION)):
        raise PermissionDenied
    family = get_object_or_404(Family, pk=pk)
    privacy.record_export(family, by=request.user, kind="json (agent)")
    return personal_data_response(family)


class FamilyReviewView(WagtailAdminTemplateMixin, TemplateView):
    """One screen to review a family: its file, the decisions, its accounts and its history."""

    template_name = "portal/admin/family_review.html"
    header_icon = "folder-open-inverse"
    viewset = None
    ACTIONS = ("accept", "refuse", "validate", "suspend", "reactivate", "invite", "reset",
               "add_guardian", "tariff", "review_child")

    def dispatch(self, request, pk):
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        self.family = get_object_or_404(Family, pk=pk)
        return super().dispatch(request, pk)

    def get_page_title(self):
        return gettext("Dossier de %(name)s") % {"name": self.family.name}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("portal_families:index"), "label": _("Familles")},
            {"url": reverse("portal_families:edit", args=[self.family.pk]),
             "label": self.family.name},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        family = self.family
        return super().get_context_data(
            family=family, lines=dossier.dossier_lines(family),
            missing=dossier.missing_for_bookings(family),
            children=Child.objects.filter(Child.of_household(family.pk)).select_related(
                "school", "family", "other_family").prefetch_related("authorised_people"),
            guardians=family.guardians.all(),
            invitations=family.invitations.select_related("user", "created_by")[:10],
            audit=family.audit_entries.select_related("actor")[:50],
            notifications=family.notifications.all()[:30],
            waiting=waitlist.coming_entries(family, timezone.localdate()),
            waitlist_url=(reverse("listes-attente:index") + "?" + urlencode({"q": family.name, "state": ""})
                          if self.request.user.has_perm("portal.view_waitlistentry") else ""),
            may_remove_waiting=self.request.user.has_perm("portal.change_waitlistentry"),
            can_see_health=self.request.user.has_perm(HEALTH_PERMISSION),
            can_anonymise=self.request.user.has_perm(ANONYMISE_PERMISSION),
            reason_form=kwargs.get("reason_form") or ReasonForm(),
            tariff_form=TariffForm(instance=family),
            price_bracket=family.tariff_bracket or purchases.town_default_bracket(),
            **kwargs,
        )

    def post(self, request, pk):
        action = request.POST.get("action")
        if action not in self.ACTIONS:
            messages.error(request, gettext("Action inconnue."))
            return redirect(request.path)
        try:
            message = getattr(self, f"do_{action}")(request)
        except (dossier.DossierError, accounts.AccountError) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, message)
        return redirect(request.path)

    def _reason(self, request):
        return ReasonForm(request.POST).data.get("reason", "")

    def _item(self, request):
        return get_object_or_404(FileItem, pk=request.POST.get("item") or 0, family=self.family)

    def do_accept(self, request):
        item = dossier.accept_item(self._item(request), by=request.user)
        return gettext("« %(name)s » accepté.") % {"name": item.requirement.name}

    def do_refuse(self, request):
        item = dossier.refuse_item(self._item(request), self._reason(request), by=request.user)
        return gettext("« %(name)s » refusé ; la famille est prévenue par e-mail.") % {
            "name": item.requirement.name}

    def do_validate(self, request):
        dossier.validate_family(self.family, by=request.user)
        return gettext("Dossier validé : la famille peut réserver et en est prévenue par e-mail.")

    def do_suspend(self, request):
        dossier.suspend_family(self.family, self._reason(request), by=request.user)
        return gettext("Famille suspendue.")

    def do_reactivate(self, request):
        dossier.reactivate_family(self.family, by=request.user)
        return gettext("Suspension levée : le dossier doit être validé à nouveau.")

    def do_invite(self, request):
        invitations = accounts.resend_invitations(self.family, by=request.user)
        return gettext("Invitation renvoyée à %(emails)s.") % {
            "emails": ", ".join(i.user.email for i in invitations)}

    def do_add_guardian(self, request):
        form = GuardianForm(request.POST)
        if not form.is_valid():
            raise accounts.AccountError(gettext("Indiquez une adresse e-mail valide."))
        user = accounts.add_guardian(self.family, by=request.user, **form.cleaned_data)
        return gettext("%(email)s est responsable de la famille ; l’invitation lui est envoyée.") % {
            "email": user.email}

    def do_tariff(self, request):
        form = TariffForm(request.POST, request.FILES, instance=Family.objects.get(pk=self.family.pk))
        if not form.is_valid():
            raise dossier.DossierError(" ".join(e for errors in form.errors.values() for e in errors))
        family = dossier.update_family(self.family, form.cleaned_data, by=request.user,
                                       fields=list(TARIFF_FIELDS), by_agent=True)
        return gettext("Tarif enregistré : %(bracket)s.") % {"bracket": family.tariff_bracket}

    def do_review_child(self, request):
        child = get_object_or_404(Child, pk=request.POST.get("child") or 0, family=self.family)
        dossier.review_child(child, by=request.user)
        return gettext("Fiche de %(name)s vérifiée : ses jours sont réservables.") % {
            "name": child.first_name}

    def do_reset(self, request):
        user = get_object_or_404(self.family.guardians, pk=request.POST.get("user") or 0)
        accounts.send_password_reset(user, by=request.user, family=self.family)
        return gettext("Un lien pour choisir un nouveau mot de passe est envoyé à %(email)s.") % {
            "email": user.email}


class FamilyAnonymiseView(WagtailAdminTemplateMixin, TemplateView):
    """An agent anonymises a family on request: what goes and what stays, then the same
    privacy.anonymise_family() as the retention schedule."""

    template_name = "portal/admin/family_anonymise.html"
    header_icon = "warning"
    viewset = None

    def dispatch(self, request, pk):
        if not (request.user.has_perm(REVIEW_PERMISSION) and request.user.has_perm(ANONYMISE_PERMISSION)):
            raise PermissionDenied
        self.family = get_object_or_404(Family, pk=pk)
        return super().dispatch(request, pk)

    def get_page_title(self):
        return gettext("Anonymiser %(name)s") % {"name": self.family.name}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("portal_families:index"), "label": _("Familles")},
            {"url": reverse("portal_families:review", args=[self.family.pk]), "label": self.family.name},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            family=self.family, preview=privacy.anonymisation_preview(self.family),
            blockers=privacy.anonymisation_blockers(self.family), **kwargs)

    def post(self, request, pk):
        try:
            privacy.anonymise_family(self.family, by=request.user, confirm=request.POST.get("confirm") == "1")
        except privacy.AnonymisationRefused as refused:
            messages.error(request, " ".join(refused.blockers))
            return redirect(request.path)
        messages.success(request, gettext("Le foyer est anonymisé : ses données personnelles sont "
                                          "effacées, ses comptes gardés."))
        return redirect("portal_families:review", pk)


# Children ------------------------------------------------------------------------------------

class ChildFilterSet(WagtailFilterSet):
    family__status = django_filters.ChoiceFilter(label=_("État du dossier"),
                                                 choices=Family.Status.choices)

    class Meta:
        model = Child
        # No PAI filter here: it would reveal health data to agents without the permission.
        fields = ["school", "school_class", "photo_consent"]


class ChildAdminForm(WagtailAdminModelForm):
    def clean(self):
        data = super().clean()
        if data.get("other_family") and data.get("other_family") == data.get("family"):
            self.add_error("other_family", _("Le second foyer doit être un autre foyer que la famille "
                                             "de l’enfant."))
        return data

    def clean_pai_document(self):
        upload = self.cleaned_data.get("pai_document")
        if upload and hasattr(upload, "content_type"):
            dossier.validate_upload(upload)
        return upload


class AuditedChildSave:
    """Agents' edits of a child go through the same rule as families' edits, and are logged."""

    def save_instance(self):
        return dossier.save_child(self.form.save(commit=False), by=self.request.user,
                                  by_agent=True)


class ChildCreateView(AuditedChildSave, generic.CreateView):
    pass


class ChildEditView(AuditedChildSave, generic.EditView):
    pass


class ChildIndexView(StreamingExportMixin, generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("family", "other_family", "school")


class ChildViewSet(ModelViewSet):
    model = Child
    icon = "user"
    menu_label = _("Enfants")
    name = "portal_children"
    url_prefix = "enfants"
    filterset_class = ChildFilterSet
    index_view_class = ChildIndexView
    add_view_class = ChildCreateView
    edit_view_class = ChildEditView
    search_fields = ["first_name", "last_name", "family__name"]
    list_display = ["__str__", "family", "other_family", "school", "school_class", "birth_date"]
    list_export = ["last_name", "first_name", "birth_date", "family", "other_family", "school",
                   "school_class", "photo_consent"]
    export_filename = "enfants"
    copy_view_enabled = False
    panels = [
        FieldRowPanel([FieldPanel("family"), FieldPanel("other_family")]),
        FieldRowPanel([FieldPanel("first_name"), FieldPanel("last_name")]),
        FieldRowPanel([FieldPanel("birth_date"), FieldPanel("school"),
                       FieldPanel("school_class")]),
        FieldRowPanel([FieldPanel("photo_consent"), FieldPanel("diet"), FieldPanel("leaves_on")]),
        # Health data: the panels are left out of the form for agents without the permission.
        MultiFieldPanel([FieldPanel("allergies"), FieldPanel("has_pai"),
                         FieldPanel("pai_document")],
                        heading=_("Santé"), permission=HEALTH_PERMISSION),
    ]

    def get_edit_handler(self):
        return ObjectList(self.panels, base_form_class=ChildAdminForm).bind_to_model(Child)


# Configuration -------------------------------------------------------------------------------

class FileRequirementViewSet(ModelViewSet):
    model = FileRequirement
    icon = "list-ul"
    menu_label = _("Pièces du dossier")
    name = "portal_file_requirements"
    url_prefix = "pieces-du-dossier"
    list_display = ["name", "kind", "school_year", "renew_yearly", "sort_order"]
    list_export = ["name", "get_kind_display", "school_year", "renew_yearly", "sort_order"]
    export_headings = {"get_kind_display": _("Type")}
    export_filename = "pieces-du-dossier"
    list_filter = ["school_year", "kind"]
    form_fields = ["school_year", "name", "help_text", "kind", "renew_yearly", "sort_order"]


class SchoolViewSet(ModelViewSet):
    model = School
    icon = "home"
    menu_label = _("Écoles")
    name = "portal_schools"
    url_prefix = "ecoles"
    list_display = ["name", "address", "phone"]
    list_export = ["name", "address", "phone"]
    export_filename = "ecoles"
    search_fields = ["name"]
    form_fields = ["name", "address", "phone", "class_map"]


class SchoolYearIndexView(generic.IndexView):
    @cached_property
    def header_buttons(self):
        buttons = super().header_buttons
        if self.request.user.has_perm(rollover.PERMISSION):
            buttons.append(HeaderButton(gettext("Passer à l’année suivante"),
                                        url=reverse("portal_school_years:rollover"), icon_name="date"))
        return buttons


class SchoolYearViewSet(ModelViewSet):
    model = SchoolYear
    icon = "date"
    menu_label = _("Années scolaires")
    name = "portal_school_years"
    url_prefix = "annees-scolaires"
    list_display = ["name", "start", "end"]
    list_export = ["name", "start", "end"]
    export_filename = "annees-scolaires"
    form_fields = ["name", "start", "end"]
    index_view_class = SchoolYearIndexView

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("passage/", rollover.rollover_view, name="rollover"),
        ]


class AuditLogIndexView(CappedCountMixin, StreamingExportMixin, generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("actor", "family")


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Nobody, not even a superuser, adds, edits or deletes journal entries from the admin."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        actions = [a for a in actions if a not in ("add", "change", "delete")]
        if not actions:
            return super().users_with_any_permission([]).none()
        return super().users_with_any_permission(actions)


register_permission_policy(AuditLog, ReadOnlyPermissionPolicy(AuditLog))


class AuditLogViewSet(ModelViewSet):
    """Read-only: the journal is append-only, so only the listing and inspection exist."""

    model = AuditLog
    icon = "history"
    menu_label = _("Journal des actions")
    name = "portal_audit"
    url_prefix = "journal"
    list_display = ["created_at", "actor", "action", "family", "target"]
    list_filter = ["action"]
    search_fields = ["action", "target", "family__name", "actor__email"]
    list_export = ["created_at", "actor", "action", "family", "target", "before", "after"]
    export_filename = "journal-des-actions"
    inspect_view_enabled = True
    inspect_view_fields = ["created_at", "actor", "action", "family", "target", "before", "after"]
    form_fields = ["action"]
    copy_view_enabled = False
    index_view_class = AuditLogIndexView


class FamiliesGroup(ModelViewSetGroup):
    menu_label = _("Familles")
    menu_icon = "group"
    menu_name = "familles"
    menu_order = 150
    items = (FamilyViewSet, ChildViewSet, FileRequirementViewSet, SchoolViewSet,
             SchoolYearViewSet, AuditLogViewSet)
