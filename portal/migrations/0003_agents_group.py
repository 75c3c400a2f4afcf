from django.contrib.auth.management import create_permissions
from django.db import migrations

PORTAL_PERMISSIONS = [
    "view_family", "add_family", "change_family", "review_family",
    "view_child", "add_child", "change_child", "view_health_data",
    "view_authorisedperson", "add_authorisedperson", "change_authorisedperson",
    "delete_authorisedperson",
    "view_school", "add_school", "change_school",
    "view_schoolyear", "add_schoolyear", "change_schoolyear",
    "view_filerequirement", "add_filerequirement", "change_filerequirement",
    "delete_filerequirement",
    "view_fileitem", "change_fileitem", "view_regulationacceptance",
    "view_invitation", "view_auditlog",
]


def create_agents_group(apps, schema_editor):
    # Permissions are normally created after all migrations; agents need them now.
    for label in ("portal", "wagtailadmin"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # the migration state's stub lacks it
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Agents")
    permissions = list(Permission.objects.filter(content_type__app_label="portal",
                                                 codename__in=PORTAL_PERMISSIONS))
    permissions += list(Permission.objects.filter(content_type__app_label="wagtailadmin",
                                                  codename="access_admin"))
    group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_family_accounts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("wagtailadmin", "0006_formstate"),
    ]

    operations = [migrations.RunPython(create_agents_group, migrations.RunPython.noop)]
