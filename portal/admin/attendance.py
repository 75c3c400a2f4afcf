"""Back office of the town's day: the agents' home dashboard panel, the staff assignments, a
menu link to the day lists (pages in portal/views/staff.py, usable on a phone)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.viewsets.model import ModelViewSet

from portal.models import StaffAssignment
from portal.services import attendance


class StaffAssignmentViewSet(ModelViewSet):
    model = StaffAssignment
    icon = "group"
    menu_label = _("Animateurs par école")
    name = "portal_staff_assignments"
    url_prefix = "animateurs"
    add_to_admin_menu = True
    menu_order = 230
    form_fields = ["user", "school"]
    list_display = ["user", "school"]
    list_export = ["user", "school"]
    export_filename = "animateurs-par-ecole"
    list_export = ["user", "user.email", "school"]
    export_headings = {"user.email": _("E-mail")}
    export_filename = "animateurs-par-ecole"
    list_filter = ["school"]
    search_fields = ["user__email", "user__last_name"]


class DayDashboardPanel(Component):
    """Today's counts, the next school days, what waits for an agent, the week's payments."""

    name = "preau_day"
    template_name = "portal/admin/day_dashboard.html"
    order = 50

    def __init__(self, data):
        self.data = data

    def get_context_data(self, parent_context):
        return {"d": self.data, "lists_url": reverse("staff:home"), "caterer_url": reverse("staff:caterer"),
                "absences_url": reverse("staff:absences")}


@hooks.register("construct_homepage_panels")
def add_day_panel(request, panels):
    if attendance.sees_all_schools(request.user):
        panels.append(DayDashboardPanel(attendance.dashboard()))


class DayListsMenuItem(MenuItem):
    def is_shown(self, request):
        return attendance.is_staff_member(request.user)


@hooks.register("register_admin_menu_item")
def register_day_lists_menu_item():
    return DayListsMenuItem(_("Listes du jour et appel"), reverse("staff:home"), icon_name="list-ul",
                            order=220)


@hooks.register("register_admin_viewset")
def register_staff_assignments():
    return StaffAssignmentViewSet()
