import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0024: PostgreSQL refuses to alter a table in the transaction that updated its
    rows while their deferred foreign-key checks are pending."""

    dependencies = [
        ("portal", "0024_two_households"),
    ]

    operations = [
        migrations.AlterField(
            model_name='booking',
            name='family',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='bookings', to='portal.family', verbose_name='foyer'),
        ),
        migrations.AlterField(
            model_name='waitlistentry',
            name='family',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='waitlist_entries', to='portal.family', verbose_name='foyer'),
        ),
    ]
