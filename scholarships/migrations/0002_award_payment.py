"""An award points at the funds payment that paid it (the ledger no longer points at awards)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0004_payment"),
        ("scholarships", "0001_rounds_and_awards"),
    ]

    operations = [
        migrations.AddField(
            model_name="award",
            name="payment",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="award",
                to="funds.payment",
                verbose_name="payment",
            ),
        ),
    ]
