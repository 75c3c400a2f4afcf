import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def reported_by_the_childs_family(apps, schema_editor):
    """Every absence report so far concerned a day booked by the child's (only) family."""
    Child = apps.get_model("portal", "Child")
    family = Subquery(Child.objects.filter(pk=OuterRef("child_id")).values("family_id")[:1])
    apps.get_model("portal", "AbsenceReport").objects.filter(family__isnull=True).update(family_id=family)


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0029_service_childcare_tax_credit'),
    ]

    operations = [
        migrations.AddField(
            model_name='absencereport',
            name='family',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='absence_reports', to='portal.family', verbose_name='foyer'),
        ),
        migrations.RunPython(reported_by_the_childs_family, migrations.RunPython.noop),
    ]
