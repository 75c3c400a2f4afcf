"""Only registers the portal's admin viewsets; they live in portal/admin/."""

from wagtail import hooks

from portal.admin import attendance, mail, payments, planning  # noqa: F401  (register their back office)
from portal.admin.families import FamiliesGroup


@hooks.register("register_admin_viewset")
def register_families():
    return FamiliesGroup()
