"""The import job moved from the "associations" app to "imports": its rows and audit trail move with it."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from associations.models import AuditAction, AuditEntry
from imports.models import ImportJob, ImportStatus
from tests.factories import UserFactory

BEFORE = [("associations", "0004_personal_data_export_and_erasure"), ("imports", None)]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    return executor


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db(transaction=True)
def test_jobs_made_before_the_move_are_kept_with_their_audit_entries(tree):
    user = UserFactory()
    # A migrated database has the job's content type (an earlier test's flush may have left
    # the table empty without post_migrate).
    ContentType.objects.get_for_model(ImportJob)
    try:
        old_state = _migrate(BEFORE).loader.project_state(BEFORE[0]).apps
        assert "associations_importjob" in _tables() and "imports_importjob" not in _tables()
        OldImportJob = old_state.get_model("associations", "ImportJob")
        OldContentType = old_state.get_model("contenttypes", "ContentType")
        OldAuditEntry = old_state.get_model("associations", "AuditEntry")
        job = OldImportJob.objects.create(
            kind="members",
            status="applied",
            created_by_id=user.pk,
            branch_id=tree.phuc_xa.pk,
            file="imports/2026/01/hoi-vien.xlsx",
            original_name="hoi-vien.xlsx",
            total_rows=3,
            to_create=3,
            errors=[{"row": 2, "column": "Ngày sinh", "message": "?"}],
        )
        content_type = OldContentType.objects.get(app_label="associations", model="importjob")
        OldAuditEntry.objects.create(
            actor_id=user.pk,
            branch_id=tree.phuc_xa.pk,
            content_type=content_type,
            object_id=str(job.pk),
            object_repr="Hội viên: hoi-vien.xlsx",
            action="import",
        )
    finally:
        _migrate(None)

    assert "imports_importjob" in _tables() and "associations_importjob" not in _tables()
    moved = ImportJob.objects.get(pk=job.pk)
    assert (moved.kind, moved.status, moved.original_name, moved.total_rows, moved.to_create) == (
        "members",
        ImportStatus.APPLIED,
        "hoi-vien.xlsx",
        3,
        3,
    )
    assert moved.branch == tree.phuc_xa and moved.created_by == user
    assert moved.errors == [{"row": 2, "column": "Ngày sinh", "message": "?"}]
    importjob_type = ContentType.objects.get_for_model(ImportJob)
    assert (importjob_type.pk, importjob_type.app_label) == (content_type.pk, "imports")
    assert not ContentType.objects.filter(app_label="associations", model="importjob").exists()
    entry = AuditEntry.objects.for_object(moved).get()
    assert entry.action == AuditAction.IMPORT and entry.content_type.model_class() is ImportJob
    # New jobs take ids after the moved ones (the table kept its sequence).
    newer = ImportJob.objects.create(kind="members", created_by=user, branch=tree.phuc_xa, original_name="b.xlsx")
    assert newer.pk > moved.pk
