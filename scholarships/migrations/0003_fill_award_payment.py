"""Data: link each paid award to its payment. funds 0005 gave every award's payment the
award's own id, so this is one set-based UPDATE.

Reverse: unlink. It refuses when an award was paid after the forward migration (its payment
id then differs from its id), since funds 0005's reverse relies on the two being equal.
"""

from django.db import migrations
from django.db.models import F
from django.db.migrations.exceptions import IrreversibleError


def forward(apps, schema_editor):
    schema_editor.execute(
        "UPDATE scholarships_award SET payment_id = id "
        "WHERE payment_id IS NULL AND id IN (SELECT id FROM funds_payment)"
    )


def backward(apps, schema_editor):
    Award = apps.get_model("scholarships", "Award")
    if Award.objects.filter(payment__isnull=False).exclude(payment_id=F("id")).exists():
        raise IrreversibleError("Awards were paid after this migration: their payment ids differ from their ids.")
    Award.objects.update(payment=None)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0005_award_payments_to_payments"),
        ("scholarships", "0002_award_payment"),
    ]

    operations = [migrations.RunPython(forward, backward)]
