import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def booked_by_the_childs_family(apps, schema_editor):
    """Every booking and waiting-list entry so far was made by the child's (only) family."""
    Child = apps.get_model("portal", "Child")
    family = Subquery(Child.objects.filter(pk=OuterRef("child_id")).values("family_id")[:1])
    for name in ("Booking", "WaitlistEntry"):
        apps.get_model("portal", name).objects.filter(family__isnull=True).update(family_id=family)


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0023_waitlist'),
    ]

    operations = [
        migrations.AddField(
            model_name='booking',
            name='family',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='bookings', to='portal.family', verbose_name='foyer'),
        ),
        migrations.AddField(
            model_name='child',
            name='other_family',
            field=models.ForeignKey(blank=True, help_text='Parents séparés : l’autre foyer réserve et paie ses propres jours avec son porte-monnaie.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='shared_children', to='portal.family', verbose_name='second foyer'),
        ),
        migrations.AddField(
            model_name='waitlistentry',
            name='family',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='waitlist_entries', to='portal.family', verbose_name='foyer'),
        ),
        migrations.RunPython(booked_by_the_childs_family, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='child',
            constraint=models.CheckConstraint(condition=models.Q(('other_family', models.F('family')), _negated=True), name='child_other_family_not_family'),
        ),
    ]
