import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0025_booking_family_required'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='booking',
            index=models.Index(fields=['child', 'date'], name='booking_child_date'),
        ),
        migrations.AddIndex(
            model_name='purchase',
            index=models.Index(fields=['created_at', 'id'], name='purchase_created_id'),
        ),
        # Once (child, date) exists, it serves the foreign key: its own index goes.
        migrations.AlterField(
            model_name='booking',
            name='child',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='bookings', to='portal.child', verbose_name='enfant'),
        ),
    ]
