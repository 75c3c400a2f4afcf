"""Agents' listing of the waiting lists of full days, in the planning group next to the
bookings. Entries are never edited here: an agent takes a child off a list (at the family's
request) through booking.leave_waitlist, the families' own rule."""

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from portal.admin.listing import CappedCountMixin, PeriodFilterMixin, StreamingExportMixin
from portal.models import Family, School, WaitlistEntry
from portal.services import family_search, waitlist
from portal.services.booking import BookingRefused, leave_waitlist, refusal_message

REMOVE_PERMISSION = "portal.change_waitlistentry"


class WaitlistFilterSet(PeriodFilterMixin, WagtailFilterSet):
    """With nothing chosen: the entries still waiting, from today on (not the school year's
    start, as other listings: a past day's waiting entry has expired)."""

    state = django_filters.ChoiceFilter(label=gettext_lazy("État"), choices=waitlist.STATE_CHOICES,
                                        empty_label=gettext_lazy("Tous les états"),
                                        method="filter_state")
    school = django_filters.ModelChoiceFilter(label=gettext_lazy("École"), field_name="child__school",
                                              queryset=School.objects.all())

    class Meta:
        model = WaitlistEntry
        fields = ["service"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "state" not in data:
            data = data.copy()
            data["state"] = waitlist.WAITING
        if (data is not None and data.get("state") == waitlist.WAITING
                and not any(data.get(k) for k in ("day", "week", "start", "end"))):
            data = data.copy()
            data["start"] = timezone.localdate().isoformat()
        super().__init__(data, *args, **kwargs)

    def filter_state(self, queryset, name, value):
        return queryset.filter(waitlist.state_q(value, timezone.localdate()))


def position_text(entry):
    return "—" if entry.position is None else entry.position


def booking_link(entry):
    """The booking a place given from the list made, and what became of it."""
    if entry.booking is None:
        return ""
    return format_html('<a href="{}">{}</a>', reverse("reservations:edit", args=[entry.booking_id]),
                       booking_text(entry))


def booking_text(entry):
    if entry.booking is None:
        return ""
    return _("Réservation n° %(n)s (%(state)s)") % {"n": entry.booking_id,
                                                   "state": entry.booking.get_status_display()}


class WaitlistIndexView(CappedCountMixin, StreamingExportMixin, IndexView):
    def get_base_queryset(self):
        queryset = super().get_base_queryset().select_related("child__school", "family", "service",
                                                             "booking")
        return waitlist.with_positions(queryset, timezone.localdate())

    def search_queryset(self, queryset):
        # A child's name as the bookings listing finds it (accents, typo), or the household that
        # signed up as the families listing finds it (its name, a guardian's, a phone number,
        # an e-mail): the child's second household has a name of its own.
        children = family_search.matching_children(self.search_query)
        if children is None:
            return queryset
        households = family_search.search_families(Family.objects.all(), self.search_query)
        return queryset.filter(Q(child__in=children) | Q(family__in=households.values("pk")))

    @cached_property
    def may_remove(self):
        return self.request.user.has_perm(REMOVE_PERMISSION)

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.may_remove and instance.position is not None:
            buttons.append(Button(
                _("Retirer de la liste"), url=reverse("listes-attente:remove", args=[instance.pk]),
                icon_name="bin", priority=10,
                attrs={"aria-label": _("Retirer %(child)s de la liste d’attente du %(day)s") % {
                    "child": instance.child, "day": date_format(instance.date, "SHORT_DATE_FORMAT")}}))
        return buttons

    def to_row_dict(self, item):
        row = super().to_row_dict(item)
        row["booking"] = booking_text(item)
        return row


class WaitlistViewSet(ModelViewSet):
    model = WaitlistEntry
    icon = "list-ol"
    menu_label = gettext_lazy("Listes d’attente")
    form_fields = ["child", "service", "date"]
    list_display = [
        "date", "service", "child",
        Column("family", label=gettext_lazy("Foyer")),
        Column("position", label=gettext_lazy("Position"), accessor=position_text),
        Column("state", label=gettext_lazy("État"), accessor="current_state_label"),
        "created_at",
        Column("booking", label=gettext_lazy("Réservation obtenue"), accessor=booking_link),
    ]
    list_export = ["date", "service", "child", "child.school", "family", "position",
                   "current_state_label", "created_at", "ended_at", "booking"]
    export_headings = {"child.school": gettext_lazy("École"), "family": gettext_lazy("Foyer"),
                       "position": gettext_lazy("Position"), "current_state_label": gettext_lazy("État"),
                       "booking": gettext_lazy("Réservation obtenue")}
    export_filename = "listes-attente"
    index_view_class = WaitlistIndexView
    filterset_class = WaitlistFilterSet
    # The list's order: its day, its service, then sign-up order (the position's).
    ordering = ["date", "service", "pk"]
    search_fields = ["child__first_name", "child__last_name", "family__name"]
    copy_view_enabled = False

    def get_index_view_kwargs(self, **kwargs):
        # Families sign up from their planning; entries are never created, edited or deleted.
        return super().get_index_view_kwargs(add_url_name=None, edit_url_name=None,
                                             delete_url_name=None, **kwargs)

    def get_urlpatterns(self):
        patterns = [p for p in super().get_urlpatterns() if p.name not in ("add", "edit", "delete")]
        return patterns + [path("retirer/<int:pk>/", self.remove_view, name="remove")]

    def remove_view(self, request, pk):
        if not request.user.has_perm(REMOVE_PERMISSION):
            raise PermissionDenied
        today = timezone.localdate()
        entries = WaitlistEntry.objects.select_related("child", "family", "service")
        entry = waitlist.with_positions(entries, today).filter(pk=pk).first()
        if entry is None:
            messages.error(request, _("Cette inscription en liste d’attente n’existe pas (ou plus)."))
            return redirect(self.get_url_name("index"))
        if request.method == "POST":
            try:
                leave_waitlist(entry, by=request.user)
            except BookingRefused as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("%(child)s est retiré(e) de la liste d’attente : %(what)s.") % {
                    "child": entry.child, "what": self._what(entry)})
            return redirect(self.get_url_name("index"))
        refusal = None
        if entry.status != WaitlistEntry.Status.WAITING:
            refusal = _("%(child)s n’est plus en liste d’attente pour ce jour (%(state)s).") % {
                "child": entry.child, "state": entry.current_state_label}
        elif entry.date < today:
            refusal = refusal_message("waitlist_expired")
        return TemplateResponse(request, "portal/admin/waitlist_remove.html", {
            "page_title": _("Retirer de la liste d’attente"), "header_icon": "list-ol",
            "entry": entry, "what": self._what(entry), "refusal": refusal,
            "index_url": reverse(self.get_url_name("index")),
        })

    @staticmethod
    def _what(entry):
        return f"{entry.service.name}, {date_format(entry.date, 'l j F Y')}"
