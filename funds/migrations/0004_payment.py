"""Money out of a fund becomes a funds record of its own, `Payment`, so funds no longer points
at the scholarships app: a ledger row's source is a donation, a transfer or a payment.

Schema only. The constraints that name the old award source or kind are dropped here and
come back in their new form in 0006, after 0005 has moved the rows across.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0003_seed_fund_models"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Payment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("voided_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="voided at")),
                (
                    "void_reason",
                    models.CharField(
                        blank=True, default="", editable=False, max_length=500, verbose_name="reason for voiding"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name="recorded at"
                    ),
                ),
                ("amount", models.PositiveBigIntegerField(verbose_name="amount (đồng)")),
                ("paid_on", models.DateField(verbose_name="paid on")),
                ("description", models.CharField(blank=True, default="", max_length=500, verbose_name="description")),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "fund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="funds.fund",
                        verbose_name="fund",
                    ),
                ),
                (
                    "voided_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="voided by",
                    ),
                ),
            ],
            options={
                "verbose_name": "payment",
                "verbose_name_plural": "payments",
                "ordering": ["-paid_on", "-id"],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("amount__gt", 0)), name="payment_amount_positive"),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("voided_at__isnull", True), ("void_reason", "")),
                            models.Q(("voided_at__isnull", False), models.Q(("void_reason", ""), _negated=True)),
                            _connector="OR",
                        ),
                        name="payment_void_has_reason",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="payment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entries",
                to="funds.payment",
                verbose_name="payment",
            ),
        ),
        migrations.RemoveConstraint(model_name="ledgerentry", name="ledgerentry_kind_valid"),
        migrations.RemoveConstraint(model_name="ledgerentry", name="ledgerentry_one_source"),
        migrations.RemoveConstraint(model_name="ledgerentry", name="ledgerentry_sign_matches_kind"),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("donation", "Donation"),
                    ("payment", "Payment"),
                    ("transfer_in", "Transfer in"),
                    ("transfer_out", "Transfer out"),
                    ("reversal", "Correction: reversal of a voided record"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
    ]
