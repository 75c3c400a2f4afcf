from django.contrib.auth.management import create_permissions
from django.db import migrations

# Agents record town-hall payments (add), refund (change), read the journal and disputes (view).
PAYMENT_PERMISSIONS = ["view_purchase", "add_purchase", "change_purchase", "view_receipt",
                       "view_refund", "view_dispute", "view_stripeevent"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("portal")
    app_config.models_module = True  # the migration state's stub lacks it
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Agents")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="portal",
                                                     codename__in=PAYMENT_PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_payments")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
