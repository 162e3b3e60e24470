"""ImportJob moves to the "imports" app: it leaves this app's state only.

The table stays as it is here; imports/migrations/0001 takes the model over and renames the
table (associations_importjob → imports_importjob), keeping every row.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("associations", "0004_personal_data_export_and_erasure"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ImportJob")],
            database_operations=[],
        ),
    ]
