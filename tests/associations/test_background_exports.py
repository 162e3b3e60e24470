"""Exports (issue 15 item 8): written as a stream, large ones in the background with progress."""

import datetime
import io
import tempfile
import tracemalloc

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from associations import exports as association_exports
from associations import services
from associations.models import ExportJob, ExportStatus, Member, PersonalDataExport
from khuyenhoc.exports import export_build, export_write
from tests.factories import MemberFactory


def many_members(branch, count):
    Member.objects.bulk_create(
        [
            Member(
                full_name=f"Nguyễn Văn Thành {number:05d}",
                branch=branch,
                category="civil_servant",
                joined_on=datetime.date(2018, 3, 1),
                address=f"Số {number} phố Phó Đức Chính, phường Trúc Bạch",
                phone="0912345678",
            )
            for number in range(count)
        ],
        batch_size=2000,
    )


def names_in(data: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_a_list_above_the_threshold_is_exported_in_the_background_with_a_link(
    client_for, cast, tree, eager, monkeypatch, django_capture_on_commit_callbacks
):
    many_members(tree.phuc_xa, 7)
    MemberFactory(branch=tree.hang_bac, full_name="Lê Văn Ngoài")
    monkeypatch.setattr(association_exports, "BACKGROUND_THRESHOLD", 5)
    client = client_for(cast.commune_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("associations:member_export"))
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("associations:export_job", args=[job.pk])
    assert (job.requested_by, job.branch, job.status) == (cast.commune_clerk, tree.phuc_xa, ExportStatus.DONE)
    assert (job.done_rows, job.total_rows) == (7, 7)
    page = client.get(response["Location"]).content.decode()
    link = reverse("associations:export_job_download", args=[job.pk])
    assert link in page
    download = client.get(link)
    assert download.status_code == 200
    names = names_in(b"".join(download.streaming_content))
    assert len(names) == 7 and "Lê Văn Ngoài" not in names
    assert PersonalDataExport.objects.filter(user=cast.commune_clerk, row_count=7).exists()


def test_a_small_list_is_still_written_during_the_request(client_for, cast, tree):
    many_members(tree.phuc_xa, 3)
    response = client_for(cast.commune_clerk).get(reverse("associations:member_export"))
    assert response.status_code == 200
    assert len(names_in(b"".join(response.streaming_content))) == 3
    assert not ExportJob.objects.exists()


def test_the_page_shows_the_progress_while_the_worker_writes(client_for, cast, tree):
    job = ExportJob.objects.create(
        branch=tree.phuc_xa,
        requested_by=cast.commune_clerk,
        kind="members",
        status=ExportStatus.RUNNING,
        done_rows=2000,
        total_rows=35080,
    )
    client = client_for(cast.commune_clerk)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("associations:export_job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Exporting… 2.000/35.080 rows" in html
    assert 'hx-trigger="every 2s"' in html
    assert reverse("associations:export_job_download", args=[job.pk]) not in html
    assert client.get(reverse("associations:export_job_download", args=[job.pk])).status_code == 404


def test_another_user_cannot_see_or_download_someone_elses_export(client_for, cast, tree):
    job = ExportJob.objects.create(
        branch=tree.phuc_xa,
        requested_by=cast.commune_clerk,
        kind="members",
        status=ExportStatus.DONE,
        filename="a.xlsx",
    )
    job.file.save("a.xlsx", ContentFile(b"x"), save=True)
    client = client_for(cast.district_leader)  # sees Phúc Xá, but did not ask for this file
    assert client.get(reverse("associations:export_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("associations:export_job_download", args=[job.pk])).status_code == 404


def test_old_exports_are_removed_with_their_files(cast, tree):
    old = ExportJob.objects.create(branch=tree.phuc_xa, requested_by=cast.commune_clerk, kind="members")
    old.file.save("old.xlsx", ContentFile(b"x"), save=True)
    ExportJob.objects.filter(pk=old.pk).update(requested_at=timezone.now() - datetime.timedelta(days=8))
    fresh = ExportJob.objects.create(branch=tree.phuc_xa, requested_by=cast.commune_clerk, kind="members")
    storage, name = old.file.storage, old.file.name
    assert services.export_jobs_purge(older_than=datetime.timedelta(days=7)) == 1
    assert list(ExportJob.objects.all()) == [fresh]
    assert not storage.exists(name)


def test_the_purge_runs_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "associations.tasks.export_jobs_purge" in tasks


def peak_while_exporting(user, count_before: int) -> int:
    export = export_build("members", user=user, params={})
    assert export.queryset.count() == count_before
    with tempfile.TemporaryFile() as spool:  # the workbook's bytes go to disk, not to the heap measured
        tracemalloc.start()
        try:
            written = export_write(export, spool)
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    assert written == count_before
    return peak


@pytest.mark.slow
def test_the_heap_stays_flat_whatever_the_size_of_the_export(cast, tree):
    many_members(tree.phuc_xa, 3000)
    small = peak_while_exporting(cast.commune_clerk, 3000)
    many_members(tree.phuc_xa, 12000)
    large = peak_while_exporting(cast.commune_clerk, 15000)
    # A member's row held in memory costs well over 1 KB (eleven values, a model instance):
    # 15 000 rows kept would need more than 15 MB. The stream holds one chunk at a time, so
    # five times the rows need about the same memory.
    assert large < 15000 * 1000 / 2
    assert large < small * 1.5


@pytest.mark.django_db(transaction=True)
def test_the_celery_worker_writes_a_large_export_and_the_page_links_it(
    celery_worker_process, client_for, cast, tree, settings, monkeypatch
):
    import time

    from django.conf import settings as django_settings

    settings.MEDIA_ROOT = django_settings.BASE_DIR / "media"  # where the worker process writes
    many_members(tree.phuc_xa, 40)
    monkeypatch.setattr(association_exports, "BACKGROUND_THRESHOLD", 25)
    client = client_for(cast.commune_clerk)
    response = client.get(reverse("associations:member_export"))
    assert response.status_code == 302
    job = ExportJob.objects.get()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in {ExportStatus.DONE, ExportStatus.FAILED}:
                break
            time.sleep(0.2)
        assert (job.status, job.done_rows, job.total_rows) == (ExportStatus.DONE, 40, 40), job.error
        status = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
        assert 'data-status="done"' in status and "hx-trigger" not in status
        download = client.get(reverse("associations:export_job_download", args=[job.pk]))
        assert len(names_in(b"".join(download.streaming_content))) == 40
    finally:
        job.refresh_from_db()
        if job.file:
            job.file.delete(save=False)


def test_a_large_organisations_export_runs_in_the_background_too(
    client_for, cast, tree, eager, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.factories import OrganizationFactory

    for number in range(4):
        OrganizationFactory(name=f"Trường Tiểu học số {number}", branch=tree.phuc_xa)
    monkeypatch.setattr(association_exports, "BACKGROUND_THRESHOLD", 3)
    client = client_for(cast.commune_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("associations:organization_export"))
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("associations:export_job", args=[job.pk])
    download = client.get(reverse("associations:export_job_download", args=[job.pk]))
    assert len(names_in(b"".join(download.streaming_content))) == 4


def test_my_large_exports_lists_only_my_own_with_their_links(client_for, cast, tree):
    mine = ExportJob.objects.create(
        branch=tree.phuc_xa,
        requested_by=cast.commune_clerk,
        kind="members",
        status=ExportStatus.DONE,
        filename="hoi-vien-mine.xlsx",
        done_rows=12000,
        total_rows=12000,
    )
    ExportJob.objects.create(
        branch=tree.phuc_xa,
        requested_by=cast.manager,
        kind="members",
        status=ExportStatus.DONE,
        filename="not-mine.xlsx",
    )
    html = client_for(cast.commune_clerk).get(reverse("associations:export_job_list")).content.decode()
    assert reverse("associations:export_job_download", args=[mine.pk]) in html
    assert "12.000/12.000" in html
    assert "not-mine.xlsx" not in html
