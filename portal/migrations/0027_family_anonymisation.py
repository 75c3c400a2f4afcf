"""Families can be anonymised (RGPD): when it was done, and who may do it on request (the
Agents group; a town that wants only its DPO to do it takes the permission off the group)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def give_agents_the_permission(apps, schema_editor):
    app_config = apps.get_app_config("portal")
    app_config.models_module = True  # the migration state's stub lacks it
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Agents").first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(content_type__app_label="portal",
                                                         codename="anonymise_family"))


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0026_listing_indexes'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='family',
            options={'ordering': ['name'], 'permissions': [('review_family', 'Peut examiner les dossiers, valider ou suspendre une famille'), ('anonymise_family', 'Peut anonymiser une famille à sa demande (RGPD)')], 'verbose_name': 'famille', 'verbose_name_plural': 'familles'},
        ),
        migrations.AddField(
            model_name='family',
            name='anonymised_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='anonymisée le'),
        ),
        migrations.RunPython(give_agents_the_permission, migrations.RunPython.noop, elidable=False),
    ]
