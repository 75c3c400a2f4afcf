import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("portal", "0013_penalties")]

    # Children already in the database were reviewed under the family-wide rule: the default
    # fills them with the migration's time.
    operations = [
        migrations.AddField(
            model_name="child",
            name="reviewed_at",
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now,
                                       editable=False, null=True, verbose_name="fiche vérifiée le"),
        ),
    ]
