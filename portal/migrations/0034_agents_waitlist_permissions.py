"""Agents read the waiting lists and take a child off one at the family's request (the change
permission: the entry is kept, marked as left). Not add or delete: families sign up from their
planning, and entries are never deleted."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("portal")
    app_config.models_module = True  # the migration state's stub lacks it
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Agents")
    group.permissions.add(*Permission.objects.filter(
        content_type__app_label="portal", codename__in=["view_waitlistentry", "change_waitlistentry"]))


class Migration(migrations.Migration):
    dependencies = [("portal", "0033_sent_notification_tax")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
