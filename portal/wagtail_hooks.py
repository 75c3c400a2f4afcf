"""Only registers the portal's admin viewsets; they live in portal/admin/."""

from wagtail import hooks

from portal.admin import payments, planning  # noqa: F401  (register the payments and planning back office)
from portal.admin.families import FamiliesGroup


@hooks.register("register_admin_viewset")
def register_families():
    return FamiliesGroup()
