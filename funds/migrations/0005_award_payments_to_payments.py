"""Data: every award paid through the ledger becomes one `Payment`, set-based.

The payment takes the award's id (the ledger row's award_id), so the ledger rows and,
in scholarships 0003, the award can point at it without a lookup table. Amount, day,
description (the ledger memo: the recipient's name), recorder and time come from the award's
payment row; a payment whose row was reversed is voided with the reversal's reason, time
and author. Kind "award_payment" becomes "payment". Reads only funds tables.

Reverse: the rows point at the award again (award id = payment id, which scholarships 0003's
reverse checks still holds) and the payments go.
"""

from django.core.management.color import no_style
from django.db import migrations

FORWARD = [
    """
    INSERT INTO funds_payment
        (id, fund_id, amount, paid_on, description, created_by_id, created_at, voided_at, voided_by_id, void_reason)
    SELECT paid.award_id, paid.fund_id, -paid.amount, paid.occurred_on, paid.memo, paid.created_by_id,
           paid.created_at, reversal.created_at, reversal.created_by_id,
           CASE WHEN reversal.id IS NULL THEN '' WHEN reversal.memo = '' THEN '-' ELSE reversal.memo END
    FROM funds_ledgerentry paid
    LEFT JOIN funds_ledgerentry reversal ON reversal.reverses_id = paid.id
    WHERE paid.kind = 'award_payment' AND paid.award_id IS NOT NULL
    """,
    "UPDATE funds_ledgerentry SET payment_id = award_id WHERE award_id IS NOT NULL",
    "UPDATE funds_ledgerentry SET kind = 'payment' WHERE kind = 'award_payment'",
]

BACKWARD = [
    "UPDATE funds_ledgerentry SET kind = 'award_payment' WHERE kind = 'payment'",
    "UPDATE funds_ledgerentry SET award_id = payment_id, payment_id = NULL WHERE payment_id IS NOT NULL",
    "DELETE FROM funds_payment",
]


def forward(apps, schema_editor):
    for statement in FORWARD:
        schema_editor.execute(statement)
    # Explicit ids: move the id sequence past them (PostgreSQL; nothing to do on SQLite).
    Payment = apps.get_model("funds", "Payment")
    for statement in schema_editor.connection.ops.sequence_reset_sql(no_style(), [Payment]):
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("funds", "0004_payment")]

    operations = [migrations.RunPython(forward, backward)]
