"""Agents' payments back office: town-hall payments, receipts, refunds, treasury journal,
unused tickets, disputes and Stripe events. Rows are never edited: every change goes through
portal.services.payments, like the families' own pages."""

import csv
import io
from decimal import Decimal

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.views.generic.models import IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import HeaderButton

from portal.admin.listing import CappedCountMixin, PeriodFilterMixin, StreamingExportMixin
from portal.forms import IsoDateInput
from portal.models import Child, Dispute, Family, Purchase, School, StripeEvent, TicketType
from portal.services import family_search, tax_attestation
from portal.services.payments import PaymentError, purchases, refunds, treasury
from portal.views.downloads import as_download
from portal.views.payment import receipt_page, receipt_pdf_response

TOWN_HALL_CHOICES = [(m.value, m.label) for m in Purchase.TOWN_HALL_METHODS]


def euros_to_cents(value):
    """Decimal euros → integer cents, refusing fractions of a cent."""
    cents = value * 100
    if cents != cents.to_integral_value():
        raise forms.ValidationError(_("Au centime près, s’il vous plaît."))
    return int(cents)


class TownHallPaymentForm(forms.Form):
    ticket_type = forms.ModelChoiceField(label=gettext_lazy("Type de ticket"),
                                         queryset=TicketType.objects.all())
    quantity = forms.IntegerField(label=gettext_lazy("Nombre de tickets"), min_value=1, max_value=1000)
    method = forms.ChoiceField(label=gettext_lazy("Moyen de paiement"), choices=TOWN_HALL_CHOICES,
                               widget=forms.RadioSelect)
    reference = forms.CharField(label=gettext_lazy("Référence"), max_length=100, required=False,
                                help_text=gettext_lazy("Obligatoire pour un chèque (numéro) ou un CESU."))
    unit_price = forms.DecimalField(
        label=gettext_lazy("Prix unitaire (€)"), required=False, min_value=Decimal("0"), max_digits=7,
        decimal_places=2, help_text=gettext_lazy("Vide : le tarif de la tranche de la famille."))

    def clean_unit_price(self):
        value = self.cleaned_data.get("unit_price")
        return None if value is None else euros_to_cents(value)


class RefundForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Tickets à retirer du porte-monnaie"), min_value=1)
    amount = forms.DecimalField(
        label=gettext_lazy("Montant remboursé (€)"), required=False, min_value=Decimal("0"), max_digits=9,
        decimal_places=2, help_text=gettext_lazy("Vide : tickets × prix unitaire payé."))
    reason = forms.CharField(label=gettext_lazy("Motif"), max_length=255,
                             help_text=gettext_lazy("Ex. « Départ de la commune »."))

    def clean_amount(self):
        value = self.cleaned_data.get("amount")
        return None if value is None else euros_to_cents(value)


def _period_default():
    today = timezone.localdate()
    return today.replace(day=1), today


class JournalForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("Du"), widget=IsoDateInput())
    end = forms.DateField(label=gettext_lazy("Au (inclus)"), widget=IsoDateInput())
    method = forms.ChoiceField(label=gettext_lazy("Moyen de paiement"), required=False,
                               choices=[("", gettext_lazy("Tous"))] + list(Purchase.Method.choices))
    ticket_type = forms.ModelChoiceField(label=gettext_lazy("Type de ticket"), required=False,
                                         queryset=TicketType.objects.all(), empty_label=gettext_lazy("Tous"))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("La fin doit suivre le début."))
        return data


class OutstandingForm(forms.Form):
    at = forms.DateField(label=gettext_lazy("À la fin du"), widget=IsoDateInput())


class TaxAttestationForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Année des frais de garde"),
                              min_value=tax_attestation.FIRST_YEAR)

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year > tax_attestation.today_in_paris().year:
            raise forms.ValidationError(_("Choisissez une année passée ou l’année en cours."))
        return year


class PurchaseFilterSet(PeriodFilterMixin, WagtailFilterSet):
    period_field = "created_at"
    school = django_filters.ModelChoiceFilter(label=gettext_lazy("École d’un enfant de la famille"),
                                              queryset=School.objects.all(), method="filter_school")

    class Meta:
        model = Purchase
        fields = ["state", "method", "ticket_type"]

    def filter_school(self, queryset, name, value):
        return queryset.filter(family__in=Child.objects.filter(school=value).values("family_id"))


class PurchaseIndexView(CappedCountMixin, StreamingExportMixin, IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("family", "ticket_type")

    @cached_property
    def header_buttons(self):
        buttons = super().header_buttons
        buttons.append(HeaderButton(_("Journal de régie"), url=reverse("paiements:journal"),
                                    icon_name="table"))
        buttons.append(HeaderButton(_("Tickets non utilisés"), url=reverse("paiements:outstanding"),
                                    icon_name="tag"))
        buttons.append(HeaderButton(_("Attestations de frais de garde"),
                                    url=reverse("paiements:tax_attestations"), icon_name="doc-full"))
        return buttons


class PurchaseViewSet(ModelViewSet):
    model = Purchase
    icon = "pick"
    menu_label = gettext_lazy("Paiements")
    index_view_class = PurchaseIndexView
    form_fields = ["family"]
    list_display = ["created_at", "family", "ticket_type", "quantity", "amount_display", "method", "state"]
    list_export = ["created_at", "family", "ticket_type", "quantity", "amount_display", "get_method_display",
                   "reference", "get_state_display"]
    export_headings = {"get_method_display": gettext_lazy("Moyen"), "get_state_display": gettext_lazy("État")}
    export_filename = "paiements"
    filterset_class = PurchaseFilterSet
    search_fields = ["family__name", "reference", "session_id", "payment_id"]
    copy_view_enabled = False

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(delete_url_name=None, **kwargs)

    def get_urlpatterns(self):
        patterns = [p for p in super().get_urlpatterns() if p.name in ("index", "index_results")]
        return patterns + [
            path("add/", self.town_hall_view, name="add"),
            path("edit/<int:pk>/", self.detail_view, name="edit"),
            path("recu/<int:pk>/", self.receipt_view, name="receipt"),
            path("recu/<int:pk>/pdf/", self.receipt_pdf_view, name="receipt_pdf"),
            path("journal/", self.journal_view, name="journal"),
            path("encours/", self.outstanding_view, name="outstanding"),
            path("attestations-frais-de-garde/", self.tax_attestations_view, name="tax_attestations"),
        ]

    @staticmethod
    def _require(request, codename):
        if not request.user.has_perm(f"portal.{codename}"):
            raise PermissionDenied

    def town_hall_view(self, request):
        """Step 1: find the family (by name or guardian e-mail); step 2: the payment."""
        self._require(request, "add_purchase")
        family = None
        family_id = request.POST.get("family") or request.GET.get("family")
        if family_id and str(family_id).isdigit():
            family = Family.objects.filter(pk=int(family_id)).first()
        if family is None:
            query = (request.GET.get("q") or "").strip()
            results = []
            if query:
                results = family_search.search_families(Family.objects.all(), query).order_by("name")[:20]
            return TemplateResponse(request, "portal/admin/payment_town_hall.html", {
                "page_title": _("Paiement reçu en mairie"), "header_icon": "pick", "query": query,
                "results": results, "searched": bool(query)})
        form = TownHallPaymentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                purchase = purchases.record_town_hall_payment(
                    family, d["ticket_type"], d["quantity"], d["method"], by=request.user,
                    reference=d["reference"], unit_cents=d["unit_price"])
            except PaymentError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Paiement enregistré : %(n)d ticket(s) crédité(s), "
                                            "reçu n° %(r)s.") % {"n": purchase.quantity,
                                                                 "r": purchase.receipt.label})
                return redirect(self.get_url_name("edit"), pk=purchase.pk)
        return TemplateResponse(request, "portal/admin/payment_town_hall.html", {
            "page_title": _("Paiement reçu en mairie — %(f)s") % {"f": family}, "header_icon": "pick",
            "family": family, "form": form})

    def detail_view(self, request, pk):
        self._require(request, "view_purchase")
        purchase = get_object_or_404(Purchase.objects.select_related("family", "ticket_type", "created_by"),
                                     pk=pk)
        can_refund = request.user.has_perm("portal.change_purchase") and purchase.is_paid
        form = RefundForm(request.POST or None) if can_refund else None
        if request.method == "POST":
            self._require(request, "change_purchase")
            if form is not None and form.is_valid():
                d = form.cleaned_data
                try:
                    refunds.refund_purchase(purchase, d["quantity"], d["reason"], by=request.user,
                                            amount_cents=d["amount"])
                except PaymentError as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Remboursement enregistré."))
                    return redirect(self.get_url_name("edit"), pk=purchase.pk)
        return TemplateResponse(request, "portal/admin/payment_detail.html", {
            "page_title": str(purchase), "header_icon": "pick", "purchase": purchase,
            "receipt": getattr(purchase, "receipt", None) if purchase.is_paid else None,
            "refunds": purchase.refunds.select_related("by"), "disputes": purchase.disputes.all(),
            "form": form, "submit": _("Rembourser")})

    def _paid(self, request, pk):
        self._require(request, "view_purchase")
        return get_object_or_404(Purchase.objects.select_related("family", "ticket_type", "receipt"),
                                 pk=pk, state=Purchase.State.PAID)

    def receipt_view(self, request, pk):
        return receipt_page(request, self._paid(request, pk))

    def receipt_pdf_view(self, request, pk):
        return receipt_pdf_response(self._paid(request, pk).receipt)

    def journal_view(self, request):
        self._require(request, "view_purchase")
        start, end = _period_default()
        form = JournalForm(request.GET or None, initial={"start": start, "end": end})
        data = None
        if form.is_bound and form.is_valid():
            d = form.cleaned_data
            data = treasury.journal(d["start"], d["end"], method=d["method"] or None,
                                   ticket_type=d["ticket_type"])
        elif not form.is_bound:
            data = treasury.journal(start, end)
        export = request.GET.get("export")
        if data is not None and export in ("csv", "xlsx"):
            return export_journal(data, export)
        query = request.GET.copy()
        return TemplateResponse(request, "portal/admin/payment_journal.html", {
            "page_title": _("Journal de régie"), "header_icon": "table", "form": form, "journal": data,
            "query": query.urlencode() if form.is_bound else f"start={start}&end={end}"})

    def outstanding_view(self, request):
        self._require(request, "view_purchase")
        form = OutstandingForm(request.GET or None, initial={"at": timezone.localdate()})
        at = form.cleaned_data["at"] if form.is_bound and form.is_valid() else timezone.localdate()
        return TemplateResponse(request, "portal/admin/payment_outstanding.html", {
            "page_title": _("Tickets non utilisés"), "header_icon": "tag", "form": form, "at": at,
            "rows": treasury.outstanding_tickets(at)})


    def tax_attestations_view(self, request):
        """Every family's attestation of a year: a ZIP of the PDFs and a CSV summary, both
        streamed as they are made (families read in rounds: tax_attestation.BATCH)."""
        self._require(request, "view_purchase")
        today = tax_attestation.today_in_paris()
        form = TaxAttestationForm(request.GET or None, initial={"year": today.year - 1})
        export = request.GET.get("export")
        if form.is_bound and form.is_valid() and export in ("zip", "csv"):
            year = form.cleaned_data["year"]
            if export == "zip":
                response = StreamingHttpResponse(tax_attestation.attestations_zip(year, today=today),
                                                 content_type="application/zip")
            else:
                response = StreamingHttpResponse(tax_attestation.summary_csv(year),
                                                 content_type="text/csv; charset=utf-8")
            return as_download(response, f"attestations-frais-de-garde-{year}.{export}")
        return TemplateResponse(request, "portal/admin/payment_tax_attestations.html", {
            "page_title": _("Attestations de frais de garde"), "header_icon": "doc-full", "form": form,
            "current_year": today.year}, status=400 if form.is_bound and form.errors else 200)


JOURNAL_HEADERS = [gettext_lazy("Date"), gettext_lazy("Opération"), gettext_lazy("Reçu"),
                   gettext_lazy("Famille"), gettext_lazy("Type de ticket"), gettext_lazy("Moyen"),
                   gettext_lazy("Référence"), gettext_lazy("Tickets"), gettext_lazy("Montant (€)")]


def _journal_rows(data):
    kinds = {"payment": _("Paiement"), "refund": _("Remboursement")}
    for line in data["lines"]:
        yield [line.when.strftime("%d/%m/%Y %H:%M"), kinds[line.kind], line.receipt, line.family,
               line.ticket_type, line.method_label, line.reference, line.quantity,
               Decimal(line.amount_cents) / 100]


def export_journal(data, fmt):
    name = f"journal-regie-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}"
    headers = [str(h) for h in JOURNAL_HEADERS]
    total_row = ["", _("Total"), "", "", "", "", "", data["total_quantity"],
                 Decimal(data["total_cents"]) / 100]
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # so spreadsheet software reads the accents as UTF-8
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(headers)
        for row in list(_journal_rows(data)) + [total_row]:
            writer.writerow([f"{v:.2f}".replace(".", ",") if isinstance(v, Decimal) else v for v in row])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        return as_download(response, f"{name}.csv")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Journal")
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _journal_rows(data):
        sheet.append(row)
        sheet.cell(row=sheet.max_row, column=9).number_format = "#,##0.00 €"
    sheet.append(total_row)
    sheet.cell(row=sheet.max_row, column=9).number_format = "#,##0.00 €"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    summary = book.create_sheet(_("Totaux"))
    summary.append([_("Par moyen de paiement"), _("Tickets"), _("Montant")])
    for label, quantity, amount in data["by_method"]:
        summary.append([label, quantity, amount])
    summary.append([])
    summary.append([_("Par type de ticket"), _("Tickets"), _("Montant")])
    for label, quantity, amount in data["by_type"]:
        summary.append([label, quantity, amount])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return as_download(response, f"{name}.xlsx")


class ReadOnlyViewSet(ModelViewSet):
    """Listing and inspection only: these rows come from Stripe."""

    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = []

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(add_url_name=None, delete_url_name=None,
                                             edit_url_name="inspect", **kwargs)

    def get_urlpatterns(self):
        return [p for p in super().get_urlpatterns() if p.name in ("index", "index_results", "inspect")]


class DisputeViewSet(ReadOnlyViewSet):
    model = Dispute
    icon = "warning"
    menu_label = gettext_lazy("Litiges")
    list_display = ["created_at", "dispute_id", "purchase", "amount_cents", "reason", "status"]
    list_export = ["created_at", "dispute_id", "purchase", "amount_cents", "reason", "status"]
    export_filename = "litiges"
    list_filter = ["status"]
    inspect_view_fields = ["dispute_id", "purchase", "payment_id", "amount_cents", "reason", "status",
                           "created_at", "updated_at"]


class StripeEventViewSet(ReadOnlyViewSet):
    model = StripeEvent
    icon = "code"
    menu_label = gettext_lazy("Événements Stripe")
    list_display = ["received_at", "type", "event_id", "processed_at", "attempts"]
    list_export = ["received_at", "type", "event_id", "processed_at", "attempts"]
    export_filename = "evenements-stripe"
    list_filter = ["type"]
    search_fields = ["event_id", "type"]
    inspect_view_fields = ["event_id", "type", "received_at", "processed_at", "attempts", "last_error"]


class PaymentsViewSetGroup(ModelViewSetGroup):
    menu_label = gettext_lazy("Paiements")
    menu_icon = "pick"
    menu_order = 220
    items = (PurchaseViewSet("paiements"), DisputeViewSet("litiges"), StripeEventViewSet("evenements-stripe"))


@hooks.register("register_admin_viewset")
def register_payments_viewsets():
    return PaymentsViewSetGroup()

