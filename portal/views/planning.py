import datetime
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import reswap

from portal import rawsql
from portal.cache import display_cache, page_cache
from portal.forms import IsoDateInput
from portal.models import Child, Service
from portal.services import deadlines, notify, planning_states
from portal.services.access import (
    access_booking,
    access_child,
    access_children,
    access_family,
    access_waitlist_entry,
)
from portal.services.booking import (
    BookingRefused,
    book_day,
    book_pattern,
    cancel_booking,
    final_once_booked,
    join_waitlist,
    leave_waitlist,
    pattern_preview,
)

from .planning_grid import cell_id, grid_texts, render_cell, render_planning


def parse_month(value):
    """'2026-09' → (2026, 9); anything else → None."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        datetime.date(year, month, 1)
        if not 2000 <= year <= 2100:
            raise ValueError
        return year, month
    except (TypeError, ValueError):
        return None


def parse_week(value):
    """'2026-09-16' → the Monday of that week (2026-09-14); anything else → None."""
    try:
        day = datetime.date.fromisoformat(value or "")
    except ValueError:
        return None
    if not 2000 <= day.year <= 2100:
        return None
    return planning_states.monday_of(day)


def shift_month(year, month, delta):
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def is_phone(request):
    """Whether the browser says it runs on a phone: Chromium's client hint, else the "Mobi" that
    phone browsers put in their user agent. Only picks the default view; both stay available."""
    hint = request.headers.get("Sec-CH-UA-Mobile")
    if hint is not None:
        return hint == "?1"
    return "Mobi" in request.headers.get("User-Agent", "")


@dataclass(frozen=True)
class View:
    """What the planning shows: a month, or the school days of one week (phones)."""

    kind: str  # "month" or "week"
    first: datetime.date  # the month's first day, or the week's Monday

    @property
    def days(self):
        if self.kind == "week":
            return planning_states.week_days(self.first)
        return deadlines.month_days(self.first.year, self.first.month)

    @property
    def param(self):
        """The query string that shows this view again."""
        if self.kind == "week":
            return f"semaine={self.first.isoformat()}"
        return f"mois={self.first:%Y-%m}"


def requested_view(data, request):
    """The view asked for by `mois` or `semaine` in `data`; without either, None on a phone
    (the week is then chosen from the day states: first_open_week), else the current month."""
    if (week := parse_week(data.get("semaine"))) is not None:
        return View("week", week)
    if (month := parse_month(data.get("mois"))) is not None:
        return View("month", datetime.date(*month, 1))
    if is_phone(request):
        return None
    today = timezone.localdate()
    return View("month", today.replace(day=1))


def planning_context(request, children, view, scope, status="", planning=None):
    texts = grid_texts()
    months = texts["months"]
    if planning is None:
        planning = planning_states.day_states(children, view.days, now=timezone.now())
    if view.kind == "week":
        before, after = view.first - datetime.timedelta(days=7), view.first + datetime.timedelta(days=7)
        prev_param, next_param = f"semaine={before.isoformat()}", f"semaine={after.isoformat()}"
        last = view.first + datetime.timedelta(days=4)
        first = view.first.day
        if view.first.month != last.month:
            first = f"{first} {months[view.first.month - 1]}"
        label = _("Semaine du %(first)s au %(last)s") % {
            "first": first, "last": f"{last.day} {months[last.month - 1]} {last.year}"}
        other_param = f"mois={view.first:%Y-%m}"
    else:
        year, month = view.first.year, view.first.month
        prev, nxt = shift_month(year, month, -1), shift_month(year, month, 1)
        prev_param, next_param = f"mois={prev[0]:04d}-{prev[1]:02d}", f"mois={nxt[0]:04d}-{nxt[1]:02d}"
        label = f"{months[month - 1]} {year}".capitalize()
        today = timezone.localdate()
        in_month = (today.year, today.month) == (year, month)
        other_param = f"semaine={(today if in_month else view.first).isoformat()}"
    if scope.startswith("child:"):
        page_url = reverse("portal:planning_child", args=[children[0].pk])
    else:
        page_url = reverse("portal:planning")
    return {
        "page_url": page_url,
        "grid": render_planning(planning),
        "planning": planning,
        "balance_list": [(t.pk, t.name, planning.balances.get(t.pk, 0)) for t in planning.ticket_types],
        "children": children,
        "view": view,
        "period_label": label,
        "prev_param": prev_param,
        "next_param": next_param,
        "other_param": other_param,
        "scope": scope,
        "current_child_id": children[0].pk if scope.startswith("child:") else None,
        "status": status,
        "family": children[0].household if children else None,
        "file_status": planning_states.family_file_status(children[0].household) if children else None,
    }


def page_versions(user, children):
    """One cache round trip for every version counter the planning page shows (page_cache)."""
    families = sorted({c.household_id for c in children})
    return display_cache.same_versions(
        display_cache.EVERYTHING, display_cache.PLANNING, display_cache.TOWN, display_cache.CAPACITY,
        display_cache.user_namespace(user.pk),
        *(display_cache.family_namespace(f) for f in families),
        *(display_cache.wallet_namespace(f) for f in families),
        *(display_cache.child_namespace(c.pk) for c in children))


def _render(request, load, view):
    """`load()` gives (children shown, the family's children named by the switcher, scope).
    The page's counters are read before anything it shows: the children are looked up once to
    know which counters, then, if the page is to be kept (page_cache), read again after them. A
    change committed in between is then either in the page or newer than its counters."""
    variant = "auto" if view is None else ""
    shown, family, scope = load()
    with page_versions(request.user, family) as versions:
        # Counters unknown (Redis down): the page will not be kept, no need to look again.
        keep = versions is not None and page_cache.usable(request)
        shown, again, scope = load() if keep else (shown, family, scope)
        planning = None
        if view is None:  # a phone without a chosen week: the first week a day can be booked
            view, planning = first_open_week(shown)
        context = planning_context(request, shown, view, scope, planning=planning)
        context["all_children"] = again
        response = render(request, "portal/planning.html", context)
    # A family without children has no counter that a new child would bump; a child added or
    # moved in between has no counter in `versions`.
    if shown and [c.pk for c in again] == [c.pk for c in family]:
        page_cache.store(request, response, versions, context["planning"], variant)
    return response


def first_open_week(children):
    """This school week, or the next one when nothing is left to book in this one, with the
    day states of both loaded at once."""
    monday = planning_states.monday_of(timezone.localdate())
    following = monday + datetime.timedelta(days=7)
    days = planning_states.week_days(monday) + planning_states.week_days(following)
    both = planning_states.day_states(children, days, now=timezone.now())
    open_days = {cell.day for row in both.rows for cell in row.cells.values() if cell.state == "available"}
    chosen = following if open_days and min(open_days) >= following else monday
    return View("week", chosen), both.restricted_to(planning_states.week_days(chosen))


@login_required
def family_month(request):
    view = requested_view(request.GET, request)
    if (response := page_cache.cached_response(request, "auto" if view is None else "")) is not None:
        return response

    def load():
        children = access_children(request.user)
        if children and (view is None or view.kind == "week"):
            # A week shows one child at a time (the child switcher): the first one here.
            return children[:1], children, f"child:{children[0].pk}"
        return children, children, "family"

    return _render(request, load, view)


@login_required
def child_month(request, child_id):
    view = requested_view(request.GET, request)
    if (response := page_cache.cached_response(request, "auto" if view is None else "")) is not None:
        return response

    def load():
        # The family's children, for the switcher, are also the access check: one query.
        children = rawsql.children_of_guardian(request.user.pk)
        child = next((c for c in children if c.pk == child_id), None)
        if child is None:  # a guardian of a second family, or another family's child (404)
            child = access_child(request.user, child_id)
            children = [child]
        return [child], children, f"child:{child.pk}"

    return _render(request, load, view)


def _parse_cell(value):
    try:
        child_id, service_id, day = value.split(":")
        return int(child_id), int(service_id), datetime.date.fromisoformat(day)
    except (AttributeError, ValueError):
        return None


def _scope_children(user, scope):
    if scope.startswith("child:"):
        try:
            return [access_child(user, int(scope.split(":", 1)[1]))]
        except ValueError as exc:
            raise Http404 from exc
    return access_children(user)


@dataclass
class Click:
    ok: bool
    message: str
    anchor: str  # the cell's id, where the page without JavaScript comes back to
    cell: tuple = None  # (child, service, day) of a click that changed something
    cancelled: bool = False
    confirm: bool = False  # nothing done yet: the booking would be final, the family confirms


@login_required
@require_POST
def act(request):
    """One book or cancel click from the grid: the pressed button says which."""
    scope = request.POST.get("scope", "family")
    view = (requested_view(request.POST, request)
            or View("week", planning_states.monday_of(timezone.localdate())))
    click = _act(request)
    if click.confirm:
        return _ask_confirmation(request, click, scope, view)
    if request.htmx:
        if click.ok and (response := _answer_in_place(request, click)) is not None:
            return response
        children = _scope_children(request.user, scope)
        with page_versions(request.user, children):
            context = planning_context(request, children, view, scope, status=click.message)
            context["status_ok"] = click.ok
            return render(request, "portal/planning_htmx.html", context)
    (messages.success if click.ok else messages.error)(request, click.message)
    if scope.startswith("child:"):
        url = reverse("portal:planning_child", args=[_scope_children(request.user, scope)[0].pk])
    else:
        url = reverse("portal:planning")
    return redirect(f"{url}?{view.param}#{click.anchor}")


def _answer_in_place(request, click):
    """The clicked cell, its ticket balance and the status only, when no other cell of the page
    can have changed state; None when the whole region must be sent again."""
    child, service, day = click.cell
    if service.capacity is not None:  # the day may now be full, or free again, for other children
        return None
    with page_versions(request.user, [child]):
        planning = planning_states.day_states([child], [day], now=timezone.now())
    balance = planning.balances.get(service.ticket_type_id, 0)
    # The last ticket used or the first one back: every open day of this ticket type changes.
    if balance == 0 or (click.cancelled and balance == 1):
        return None
    cell = planning.rows[0].cells.get((service.pk, day)) if planning.rows else None
    if cell is None:  # the service left the child's school meanwhile
        return None
    response = render(request, "portal/planning_cell_htmx.html", {
        "status": click.message, "cell": render_cell(cell), "ticket_type_id": service.ticket_type_id,
        "name": service.ticket_type.name, "balance": balance})
    return reswap(response, "none")


def _ask_confirmation(request, click, scope, view):
    """A booking that could not be undone waits for a second, explicit click: in place with
    htmx (the cell turns into a confirm button), on a page of its own without JavaScript."""
    child, service, day = click.cell
    if request.htmx:
        cell = planning_states.Cell(child, service, day, "confirm")
        response = render(request, "portal/planning_confirm_htmx.html",
                          {"status": click.message, "cell": render_cell(cell)})
        return reswap(response, "none")
    if scope.startswith("child:"):
        back = reverse("portal:planning_child", args=[child.pk])
    else:
        back = reverse("portal:planning")
    return render(request, "portal/planning_confirm.html", {
        "message": click.message, "value": f"{child.pk}:{service.pk}:{day.isoformat()}",
        "scope": scope, "view": view, "back": f"{back}?{view.param}#{click.anchor}"})


def _waitlist(request):
    """A click on a full day (sign up to its waiting list) or on a day the child waits for
    (leave the list)."""
    if "leave_waitlist" in request.POST:
        try:
            entry = access_waitlist_entry(request.user, int(request.POST["leave_waitlist"]))
        except ValueError as exc:
            raise Http404 from exc
        anchor = cell_id(entry.child_id, entry.service_id, entry.date)
        try:
            leave_waitlist(entry, by=request.user)
        except BookingRefused as exc:
            return Click(False, exc.message, anchor)
        message = _("%(child)s ne figure plus sur la liste d’attente : %(what)s.") % {
            "child": entry.child.first_name, "what": f"{entry.service.name}, {entry.date:%d/%m/%Y}"}
        return Click(True, message, anchor, (entry.child, entry.service, entry.date))
    parsed = _parse_cell(request.POST.get("waitlist"))
    if parsed is None:
        return Click(False, _("Demande incomplète : choisissez un jour dans le planning."), "planning-region")
    child_id, service_id, day = parsed
    child = access_child(request.user, child_id)
    service = Service.objects.select_related("ticket_type").filter(pk=service_id).first()
    if service is None:
        raise Http404
    anchor = cell_id(child.pk, service.pk, day)
    try:
        join_waitlist(child, service, day, by=request.user)
    except BookingRefused as exc:
        return Click(False, exc.message, anchor)
    message = _("%(child)s est sur la liste d’attente : %(what)s. Si une place se libère, elle sera "
                "réservée avec un ticket « %(type)s » et vous serez prévenu par e-mail : gardez un "
                "ticket d’avance.") % {
        "child": child.first_name, "what": f"{service.name}, {day:%d/%m/%Y}",
        "type": service.ticket_type.name}
    return Click(True, message, anchor, (child, service, day))


def _act(request):
    if "waitlist" in request.POST or "leave_waitlist" in request.POST:
        return _waitlist(request)
    if "cancel" in request.POST:
        try:
            booking = access_booking(request.user, int(request.POST["cancel"]))
        except ValueError as exc:
            raise Http404 from exc
        anchor = cell_id(booking.child_id, booking.service_id, booking.date)
        try:
            cancel_booking(booking, by=request.user)
        except BookingRefused as exc:
            return Click(False, exc.message, anchor)
        message = _("Réservation annulée : %(what)s. Le ticket est rendu.") % {
            "what": f"{booking.service.name}, {booking.date:%d/%m/%Y}, {booking.child.first_name}"}
        return Click(True, message, anchor, (booking.child, booking.service, booking.date), cancelled=True)
    confirmed = "book_confirmed" in request.POST
    parsed = _parse_cell(request.POST.get("book_confirmed") or request.POST.get("book")
                         or request.POST.get("book_final"))
    if parsed is None:
        return Click(False, _("Demande incomplète : choisissez un jour dans le planning."), "planning-region")
    child_id, service_id, day = parsed
    child = access_child(request.user, child_id)
    service = Service.objects.select_related("ticket_type").filter(pk=service_id).first()
    if service is None:
        raise Http404
    anchor = cell_id(child.pk, service.pk, day)
    if not confirmed and final_once_booked(service, day):
        message = _("Non annulable une fois réservé : confirmez-vous %(what)s ? Le ticket ne "
                    "pourra pas être rendu.") % {
            "what": f"{service.name}, {day:%d/%m/%Y}, {child.first_name}"}
        return Click(False, message, anchor, (child, service, day), confirm=True)
    try:
        book_day(child, service, day, by=request.user)
    except BookingRefused as exc:
        return Click(False, exc.message, anchor)
    message = _("Réservé : %(what)s. Un ticket a été utilisé.") % {
        "what": f"{service.name}, {day:%d/%m/%Y}, {child.first_name}"}
    return Click(True, message, anchor, (child, service, day))


WEEKDAY_FIELD_CHOICES = [(0, gettext_lazy("lundi")), (1, gettext_lazy("mardi")),
                         (2, gettext_lazy("mercredi")), (3, gettext_lazy("jeudi")),
                         (4, gettext_lazy("vendredi")), (5, gettext_lazy("samedi"))]


class PatternForm(forms.Form):
    children = forms.ModelMultipleChoiceField(
        queryset=Child.objects.none(), widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Enfants"))
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(), widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Prestations"))
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAY_FIELD_CHOICES, coerce=int, widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Jours de la semaine"))
    start = forms.DateField(label=gettext_lazy("Du"), widget=IsoDateInput())
    end = forms.DateField(label=gettext_lazy("Au (inclus)"), widget=IsoDateInput())

    def __init__(self, *args, family, **kwargs):
        super().__init__(*args, **kwargs)
        self.family = family
        self.fields["children"].queryset = (Child.objects.filter(Child.of_household(family.pk))
                                            .select_related("family", "school").order_by("first_name"))
        school_ids = Child.objects.filter(Child.of_household(family.pk)).values("school_id")
        self.fields["services"].queryset = (Service.objects.filter(schools__in=school_ids).distinct()
                                            .select_related("ticket_type").order_by("order", "name"))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        # Booked and paid by this household, the shared children included.
        data["children"] = [c.seen_by(self.family) for c in data.get("children", [])]
        if start and end:
            if end < start:
                self.add_error("end", _("La date de fin doit suivre la date de début."))
            elif (end - start).days > 366:
                self.add_error("end", _("Choisissez une période d’un an au plus."))
        return data


@login_required
def pattern(request):
    """Weekly pattern: preview the tickets needed, then book in one action."""
    family = access_family(request.user)
    form = PatternForm(request.POST or None, family=family)
    context = {"form": form, "family": family}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        children = list(data["children"])
        args = (children, list(data["services"]), data["weekdays"], data["start"], data["end"])
        if "confirm" in request.POST:
            context["result"] = book_pattern(*args, by=request.user)
            notify.pattern_booked(family, context["result"])
        else:
            context["preview"] = pattern_preview(*args)
    return render(request, "portal/planning_pattern.html", context)
