from django.contrib.auth.management import create_permissions
from django.db import migrations

# Agents run the planning: services, closures, ticket types, brackets, prices, wallets, bookings.
# Until now only the demo granted these, so a real town's agents could not open those listings.
PLANNING_MODELS = ["service", "closure", "tickettype", "tariffbracket", "price", "wallet", "booking"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("portal")
    app_config.models_module = True  # the migration state's stub lacks it
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Agents")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="portal",
                                                     content_type__model__in=PLANNING_MODELS))


class Migration(migrations.Migration):
    dependencies = [("portal", "0008_roll_call")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
