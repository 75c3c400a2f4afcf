import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0030, like 0025: PostgreSQL refuses to alter a table in the transaction that
    updated its rows while their deferred foreign-key checks are pending."""

    dependencies = [
        ("portal", "0030_absence_report_household"),
    ]

    operations = [
        migrations.AlterField(
            model_name="absencereport",
            name="family",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='absence_reports', to='portal.family', verbose_name='foyer'),
        ),
    ]
