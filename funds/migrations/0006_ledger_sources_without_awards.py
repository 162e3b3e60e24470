"""The ledger no longer points at scholarships: drop LedgerEntry.award and bring back the
source, kind and sign constraints with "payment" in place of the award."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("funds", "0005_award_payments_to_payments")]

    operations = [
        migrations.RemoveField(model_name="ledgerentry", name="award"),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["donation", "payment", "transfer_in", "transfer_out", "reversal"])),
                name="ledgerentry_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("donation__isnull", False), ("payment__isnull", True), ("transfer__isnull", True)),
                    models.Q(("donation__isnull", True), ("payment__isnull", False), ("transfer__isnull", True)),
                    models.Q(("donation__isnull", True), ("payment__isnull", True), ("transfer__isnull", False)),
                    _connector="OR",
                ),
                name="ledgerentry_one_source",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("amount__gt", 0), ("kind__in", ["donation", "transfer_in"])),
                    models.Q(("amount__lt", 0), ("kind__in", ["payment", "transfer_out"])),
                    ("kind", "reversal"),
                    _connector="OR",
                ),
                name="ledgerentry_sign_matches_kind",
            ),
        ),
    ]
