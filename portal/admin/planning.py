"""Agent back office for the planning: services, tickets, prices, closures, wallets, bookings.

Wallet and booking screens never edit rows directly: the "edit" link of a wallet opens the
credit/debit form and that of a booking the agent cancellation, both going through the same
service functions as the families' pages.
"""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.views.generic.models import CreateView, EditView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import HeaderButton

from portal import tasks
from portal.admin.listing import CappedCountMixin, PeriodFilterMixin, StreamingExportMixin
from portal.admin.waitlist import WaitlistViewSet
from portal.forms import IsoDateInput
from portal.models import (
    Booking,
    Closure,
    LedgerEntry,
    Price,
    School,
    Service,
    TariffBracket,
    TicketType,
    Wallet,
)
from portal.models.service import WEEKDAY_CHOICES
from portal.services import audit, closures, deadlines, family_search, notify
from portal.services.booking import BookingRefused, cancel_booking, fill_from_waitlists
from portal.services.town import town_settings
from portal.services.wallet import WalletError, credit_tickets, debit_tickets, wallet_debt


class ServiceForm(WagtailAdminModelForm):
    weekday_choices = forms.TypedMultipleChoiceField(
        choices=WEEKDAY_CHOICES, coerce=int, widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Jours de fonctionnement"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weekdays"].required = False
        self.fields["weekdays"].widget = forms.HiddenInput()
        self.initial["weekday_choices"] = [int(c) for c in (self.instance.weekdays or "")]

    def clean(self):
        data = super().clean()
        days = data.get("weekday_choices") or []
        if not days:
            self.add_error("weekday_choices", _("Choisissez au moins un jour."))
        data["weekdays"] = "".join(str(d) for d in sorted(set(days)))
        self.instance.weekdays = data["weekdays"]
        return data


class ServiceEditView(EditView):
    def save_instance(self):
        before = Service.objects.filter(pk=self.object.pk).values_list("capacity", flat=True).first()
        instance = super().save_instance()
        if before is not None and (instance.capacity is None or instance.capacity > before):
            # New places on full days go to their waiting lists as soon as this save has
            # committed, one day per transaction, in this request (a task could leave the new
            # places open to anyone until a worker took it).
            transaction.on_commit(lambda: fill_from_waitlists(instance), robust=True)
        return instance


class ServiceViewSet(ModelViewSet):
    model = Service
    edit_view_class = ServiceEditView
    icon = "date"
    menu_label = gettext_lazy("Prestations")
    list_display = ["name", "ticket_type", "start", "end", "capacity"]
    list_export = ["name", "ticket_type", "start", "end", "capacity"]
    export_filename = "prestations"
    list_filter = ["schools", "ticket_type"]
    search_fields = ["name"]
    copy_view_enabled = True
    edit_handler = ObjectList([
        FieldPanel("name"), FieldPanel("schools"), FieldPanel("ticket_type"),
        FieldPanel("weekday_choices"), FieldPanel("weekdays"),
        FieldRowPanel([FieldPanel("start"), FieldPanel("end")]),
        FieldRowPanel([FieldPanel("capacity"), FieldPanel("order")]),
        FieldRowPanel([FieldPanel("is_meal"), FieldPanel("shows_pickup"), FieldPanel("unbooked_penalty")]),
        FieldPanel("childcare_tax_credit"),
        FieldPanel("sick_rule"),
        MultiFieldPanel([FieldPanel("booking_rule"), FieldPanel("booking_days"),
                         FieldPanel("booking_working_days"), FieldPanel("booking_weekday"),
                         FieldPanel("booking_time")], heading=gettext_lazy("Date limite de réservation")),
        MultiFieldPanel([FieldPanel("cancel_rule"), FieldPanel("cancel_days"),
                         FieldPanel("cancel_working_days"), FieldPanel("cancel_weekday"),
                         FieldPanel("cancel_time")], heading=gettext_lazy("Date limite d’annulation")),
    ], base_form_class=ServiceForm)


class TicketTypeViewSet(ModelViewSet):
    model = TicketType
    icon = "tag"
    menu_label = gettext_lazy("Types de ticket")
    form_fields = ["name", "description"]
    list_display = ["name", "description"]
    list_export = ["name", "description"]
    export_filename = "types-de-ticket"


class TariffBracketViewSet(ModelViewSet):
    model = TariffBracket
    icon = "list-ol"
    menu_label = gettext_lazy("Tranches tarifaires")
    form_fields = ["name", "quotient_min", "quotient_max"]
    list_display = ["name", "quotient_min", "quotient_max"]
    list_export = ["name", "quotient_min", "quotient_max"]
    export_filename = "tranches-tarifaires"


class PriceViewSet(ModelViewSet):
    model = Price
    icon = "tag"
    menu_label = gettext_lazy("Tarifs")
    form_fields = ["ticket_type", "bracket", "unit_cents"]
    list_display = ["ticket_type", "bracket", "unit_cents"]
    list_export = ["ticket_type", "bracket", "unit_cents"]
    export_filename = "tarifs"
    list_filter = ["ticket_type", "bracket"]


class ImportHolidaysForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("Du"), widget=IsoDateInput())
    end = forms.DateField(label=gettext_lazy("Au"), widget=IsoDateInput())
    zone = forms.ChoiceField(label=gettext_lazy("Zone"), choices=[("A", "A"), ("B", "B"), ("C", "C")])
    public = forms.BooleanField(label=gettext_lazy("Ajouter aussi les jours fériés à la liste"),
                                required=False, help_text=gettext_lazy(
                                    "Ils ferment déjà le planning automatiquement ; les ajouter "
                                    "les rend visibles dans cette liste."))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and (
                data["end"] < data["start"] or (data["end"] - data["start"]).days > 800):
            raise forms.ValidationError(_("Choisissez une période de deux ans au plus, fin après début."))
        return data


class ClosureIndexView(IndexView):
    @cached_property
    def header_buttons(self):
        buttons = super().header_buttons
        if self.user_has_permission("add"):
            buttons.append(HeaderButton(_("Importer les vacances scolaires"),
                                        url=reverse("fermetures:import"), icon_name="download"))
        return buttons


class ClosureForm(WagtailAdminModelForm):
    """A closure over booked days cancels those bookings (portal/services/closures.py): the
    agent is told how many and confirms before anything is saved."""

    confirm_cancel = forms.BooleanField(
        label=gettext_lazy("Annuler les réservations de ces jours et rendre les tickets"), required=False,
        help_text=gettext_lazy("Demandé seulement si des familles ont réservé ces jours : chaque "
                               "famille reçoit un e-mail avec les jours annulés et les tickets "
                               "rendus. Supprimer la fermeture ensuite ne réserve pas ces jours à "
                               "nouveau."))

    def clean(self):
        data = super().clean()
        probe = Closure(start=data.get("start"), end=data.get("end"), school=data.get("school"),
                        service=data.get("service"))
        self.impact = closures.closure_impact(probe)
        if self.impact.bookings and not data.get("confirm_cancel"):
            message = ngettext(
                "Cette fermeture annule %(n)d réservation (%(f)d famille(s)) et rend son ticket. "
                "Cochez la case pour confirmer.",
                "Cette fermeture annule %(n)d réservations (%(f)d famille(s)) et rend leurs tickets. "
                "Cochez la case pour confirmer.", self.impact.bookings) % {
                "n": self.impact.bookings, "f": self.impact.families}
            self.add_error("confirm_cancel", message)
        return data


def sweep_after_commit(closure, user):
    """A booking committed in the same instant as the closure (its rules read before the
    closure existed) is caught by a second pass once the closure is committed."""
    transaction.on_commit(lambda: tasks.sweep_closure.enqueue(closure.pk, user.pk), robust=True)


class ClosureSaveMixin:
    def save_instance(self):
        # Wagtail runs this inside transaction.atomic: the closure and its cancellations commit
        # together or not at all.
        instance = super().save_instance()
        self.closure_result = closures.apply_closure(instance, by=self.request.user)
        sweep_after_commit(instance, self.request.user)
        return instance

    def closure_message(self, message):
        r = self.closure_result
        if r.cancelled:
            message += " " + ngettext(
                "%(n)d réservation annulée, %(t)d ticket(s) rendu(s), %(f)d famille(s) prévenue(s).",
                "%(n)d réservations annulées, %(t)d ticket(s) rendu(s), %(f)d famille(s) prévenue(s).",
                len(r.cancelled)) % {"n": len(r.cancelled), "t": r.refunded, "f": r.families}
        if r.kept:
            message += " " + ngettext(
                "%(n)d réservation d’un jour dont l’appel est clos n’est pas annulée.",
                "%(n)d réservations de jours dont l’appel est clos ne sont pas annulées.",
                r.kept) % {"n": r.kept}
        return message


class ClosureCreateView(ClosureSaveMixin, CreateView):
    def get_success_message(self, instance):
        return self.closure_message(super().get_success_message(instance) or "")


class ClosureEditView(ClosureSaveMixin, EditView):
    def get_success_message(self):
        return self.closure_message(super().get_success_message() or "")


class ClosureViewSet(ModelViewSet):
    model = Closure
    icon = "date"
    menu_label = gettext_lazy("Fermetures")
    index_view_class = ClosureIndexView
    add_view_class = ClosureCreateView
    edit_view_class = ClosureEditView
    form_fields = ["kind", "reason", "start", "end", "school", "service", "confirm_cancel"]
    edit_handler = ObjectList([FieldPanel(name) for name in form_fields], base_form_class=ClosureForm)
    list_display = ["reason", "kind", "start", "end", "school", "service"]
    list_export = ["reason", "get_kind_display", "start", "end", "school", "service"]
    export_headings = {"get_kind_display": gettext_lazy("Type")}
    export_filename = "fermetures"
    list_filter = ["kind", "school", "service"]
    search_fields = ["reason"]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("import/", self.import_view, name="import"),
        ]

    def import_view(self, request):
        if not request.user.has_perm("portal.add_closure"):
            raise PermissionDenied
        town = town_settings(request)
        zone = town.holiday_zone if town else "B"
        form = ImportHolidaysForm(request.POST or None, initial={"zone": zone})
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            with transaction.atomic():
                created = deadlines.import_holidays(d["start"], d["end"], d["zone"], d["public"])
                cancelled = sum(len(closures.apply_closure(c, by=request.user).cancelled) for c in created)
                for closure in created:
                    sweep_after_commit(closure, request.user)
            message = _("%(n)d fermeture(s) ajoutée(s).") % {"n": len(created)}
            if cancelled:
                message += " " + _("%(n)d réservation(s) de ces jours annulée(s), tickets rendus, "
                                   "familles prévenues.") % {"n": cancelled}
            messages.success(request, message)
            return redirect(self.get_url_name("index"))
        return TemplateResponse(request, "portal/admin/form.html", {
            "page_title": _("Importer les vacances scolaires"), "header_icon": "date", "form": form,
            "intro": _("Les dates viennent du calendrier officiel (paquet vacances-scolaires-france), "
                       "sans connexion. Les périodes déjà importées ne sont pas dupliquées."),
            "submit": _("Importer"),
        })


class AdjustWalletForm(forms.Form):
    direction = forms.ChoiceField(label=gettext_lazy("Opération"), widget=forms.RadioSelect, choices=[
        ("credit", gettext_lazy("Créditer (ajouter des tickets)")),
        ("debit", gettext_lazy("Débiter (retirer des tickets)")),
    ])
    quantity = forms.IntegerField(label=gettext_lazy("Nombre de tickets"), min_value=1, max_value=1000)
    reason = forms.CharField(label=gettext_lazy("Motif"), max_length=255,
                             help_text=gettext_lazy("Visible par la famille. Ex. « Certificat médical »."))


class WalletIndexView(StreamingExportMixin, IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("family", "ticket_type")


class WalletViewSet(ModelViewSet):
    model = Wallet
    icon = "tag"
    menu_label = gettext_lazy("Porte-monnaie")
    index_view_class = WalletIndexView
    form_fields = ["family", "ticket_type"]
    list_display = ["family", "ticket_type", "balance"]
    list_export = ["family", "ticket_type", "balance"]
    export_filename = "porte-monnaie"
    list_filter = ["ticket_type"]
    search_fields = ["family__name"]
    copy_view_enabled = False

    def get_index_view_kwargs(self, **kwargs):
        # "Edit" on a wallet is the credit/debit form; rows are never edited or deleted.
        return super().get_index_view_kwargs(delete_url_name=None, **kwargs)

    def get_urlpatterns(self):
        patterns = [p for p in super().get_urlpatterns() if p.name not in ("edit", "delete")]
        return patterns + [path("edit/<int:pk>/", self.adjust_view, name="edit")]

    def adjust_view(self, request, pk):
        if not request.user.has_perm("portal.change_wallet"):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.select_related("family", "ticket_type"), pk=pk)
        form = AdjustWalletForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            action = credit_tickets if d["direction"] == "credit" else debit_tickets
            try:
                # The change and its audit entry commit together or not at all.
                with transaction.atomic():
                    entry = action(wallet, d["quantity"], d["reason"], by=request.user)
                    audit.record_action(request.user, f"wallet.{d['direction']}", wallet.family,
                                        target=wallet, after={"tickets": entry.quantity,
                                                              "reason": d["reason"],
                                                              "balance": wallet.balance})
                    notify.tickets_changed_by_town(entry, wallet)
            except WalletError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Porte-monnaie mis à jour : %(n)d ticket(s).") % {
                    "n": wallet.balance})
                return redirect(self.get_url_name("edit"), pk=wallet.pk)
        entries = (LedgerEntry.objects.filter(wallet=wallet)
                   .select_related("by", "agent", "booking__child", "attendance__child")[:100])
        return TemplateResponse(request, "portal/admin/form.html", {
            "page_title": _("Porte-monnaie %(w)s") % {"w": wallet},
            "intro": _("Solde : %(n)d ticket(s).") % {"n": wallet.balance} + (
                " " + _("Pénalités dues (dette, retenue sur le prochain achat) : %(n)d ticket(s).")
                % {"n": owed} if (owed := wallet_debt(wallet)) else ""),
            "header_icon": "tag", "form": form, "entries": entries, "submit": _("Enregistrer"),
        })


class AgentCancelForm(forms.Form):
    refund = forms.TypedChoiceField(label=gettext_lazy("Ticket"), widget=forms.RadioSelect,
                                    coerce=lambda v: v == "yes", choices=[
                                        ("yes", gettext_lazy("Rendre le ticket à la famille")),
                                        ("no", gettext_lazy("Ne pas rendre le ticket"))])
    reason = forms.CharField(label=gettext_lazy("Motif"), max_length=255)


class BookingFilterSet(PeriodFilterMixin, WagtailFilterSet):
    school = django_filters.ModelChoiceFilter(label=gettext_lazy("École"), field_name="child__school",
                                              queryset=School.objects.all())

    class Meta:
        model = Booking
        fields = ["status", "service"]


class BookingIndexView(CappedCountMixin, StreamingExportMixin, IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("child__school", "family", "service")

    def search_queryset(self, queryset):
        # A child's or family's name as the families listing finds it (accents, typo), through
        # the names' trigram indexes: Wagtail's icontains joined a year of bookings to every name.
        children = family_search.matching_children(self.search_query)
        return queryset if children is None else queryset.filter(child__in=children)


class BookingViewSet(ModelViewSet):
    model = Booking
    icon = "date"
    menu_label = gettext_lazy("Réservations")
    form_fields = ["child", "service", "date"]
    list_display = ["date", "child", "family", "service", "status", "refunded"]
    # The household that booked and paid (a child of separated parents has two).
    list_export = ["date", "child", "family", "child.school", "service", "get_status_display",
                   "refunded", "created_at", "cancelled_at"]
    export_headings = {"family": gettext_lazy("Famille"), "child.school": gettext_lazy("École"),
                       "get_status_display": gettext_lazy("État")}
    export_filename = "reservations"
    index_view_class = BookingIndexView
    filterset_class = BookingFilterSet
    # By day, then by row: the (date, id) index reads the first page without sorting the year.
    ordering = ["date", "pk"]
    search_fields = ["child__first_name", "child__last_name", "family__name"]
    copy_view_enabled = False

    def get_index_view_kwargs(self, **kwargs):
        # Bookings are made through the rules (planning), not created or deleted here.
        return super().get_index_view_kwargs(add_url_name=None, delete_url_name=None, **kwargs)

    def get_urlpatterns(self):
        patterns = [p for p in super().get_urlpatterns() if p.name not in ("edit", "delete", "add")]
        return patterns + [path("edit/<int:pk>/", self.cancel_view, name="edit")]

    def cancel_view(self, request, pk):
        if not request.user.has_perm("portal.change_booking"):
            raise PermissionDenied
        booking = get_object_or_404(Booking.objects.select_related("child", "family", "service__ticket_type"),
                                    pk=pk)
        form = AgentCancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    cancel_booking(booking, by=request.user, refund=form.cleaned_data["refund"])
                    audit.record_action(request.user, "booking.cancel", booking.family,
                                        target=booking,
                                        after={"refunded": booking.refunded,
                                               "reason": form.cleaned_data["reason"]})
                    notify.booking_cancelled_by_town(booking, form.cleaned_data["reason"])
            except BookingRefused as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Réservation annulée."))
                return redirect(self.get_url_name("index"))
        return TemplateResponse(request, "portal/admin/form.html", {
            "page_title": _("Annuler la réservation %(b)s") % {"b": booking},
            "intro": (_("État : %(s)s.") % {"s": booking.get_status_display()}),
            "header_icon": "date", "form": form if booking.is_active else None,
            "submit": _("Annuler la réservation"),
        })


class PlanningViewSetGroup(ModelViewSetGroup):
    menu_label = gettext_lazy("Planning")
    menu_icon = "date"
    menu_order = 210
    items = (ServiceViewSet("prestations"), ClosureViewSet("fermetures"), TicketTypeViewSet("types-ticket"),
             TariffBracketViewSet("tranches"), PriceViewSet("tarifs"), WalletViewSet("porte-monnaie"),
             BookingViewSet("reservations"), WaitlistViewSet("listes-attente"))


@hooks.register("register_admin_viewset")
def register_planning_viewsets():
    return PlanningViewSetGroup()

