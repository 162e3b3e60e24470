"""The import job, taken over from the "associations" app with its rows.

1. The model enters this app's state on its existing table (nothing runs in the database);
2. the table is renamed associations_importjob → imports_importjob;
3. the content type follows (audit entries point at import jobs through it).
Each step has its reverse.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


def _move_content_type(apps, schema_editor, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    manager = ContentType.objects.db_manager(schema_editor.connection.alias)
    old = manager.filter(app_label=source, model="importjob").first()
    if old is None:
        return
    # A content type created for the target meanwhile (post_migrate) can hold no audit entry yet.
    manager.filter(app_label=target, model="importjob").delete()
    old.app_label = target
    old.save(update_fields=["app_label"])


def content_type_forwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "associations", "imports")


def content_type_backwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "imports", "associations")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("associations", "0005_import_job_moves_to_imports_app"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ImportJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("members", "Members"),
                                    ("organizations", "Organisations"),
                                    ("donations", "Donations"),
                                    ("awards", "Scholarship awards"),
                                ],
                                max_length=20,
                                verbose_name="kind",
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("uploaded", "Uploaded"),
                                    ("checking", "Checking"),
                                    ("checked", "Checked: ready to apply"),
                                    ("invalid", "Has errors: nothing applied"),
                                    ("applying", "Applying"),
                                    ("applied", "Applied"),
                                    ("failed", "Failed: nothing applied"),
                                ],
                                default="uploaded",
                                max_length=10,
                                verbose_name="status",
                            ),
                        ),
                        ("file", models.FileField(upload_to="imports/%Y/%m/", verbose_name="file")),
                        ("original_name", models.CharField(max_length=255, verbose_name="file name")),
                        ("total_rows", models.PositiveIntegerField(default=0, verbose_name="rows")),
                        ("processed_rows", models.PositiveIntegerField(default=0, verbose_name="rows processed")),
                        ("to_create", models.PositiveIntegerField(default=0, verbose_name="rows to create")),
                        ("to_update", models.PositiveIntegerField(default=0, verbose_name="rows to update")),
                        ("unchanged", models.PositiveIntegerField(default=0, verbose_name="unchanged rows")),
                        ("error_count", models.PositiveIntegerField(default=0, verbose_name="errors")),
                        ("errors", models.JSONField(blank=True, default=list, verbose_name="errors")),
                        ("preview", models.JSONField(blank=True, default=list, verbose_name="preview")),
                        ("message", models.CharField(blank=True, default="", max_length=500, verbose_name="message")),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now(), verbose_name="uploaded at"
                            ),
                        ),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                        (
                            "branch",
                            models.ForeignKey(
                                help_text="The uploader's branch: every row must lie in its subtree.",
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="import_jobs",
                                to="associations.branch",
                                verbose_name="branch",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="uploaded by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "import",
                        "verbose_name_plural": "imports",
                        "ordering": ["-created_at", "-id"],
                        "db_table": "associations_importjob",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("kind__in", ["members", "organizations", "donations", "awards"])),
                                name="importjob_kind_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "status__in",
                                        ["uploaded", "checking", "checked", "invalid", "applying", "applied", "failed"],
                                    )
                                ),
                                name="importjob_status_valid",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="importjob", table=None),
        migrations.RunPython(content_type_forwards, content_type_backwards),
    ]
