"""The apply writes what the check planned, as long as the file and the members it matched
are unchanged; otherwise it refuses, writing nothing."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from associations.models import AuditAction, AuditEntry, Member
from imports import services
from imports.models import ImportStatus
from tests.associations.test_imports import AN_ID, GOOD_MEMBERS, MEMBER_HEADERS, _many_members, xlsx
from tests.factories import MemberFactory


@pytest.fixture(autouse=True)
def _media_and_english(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


def checked(actor, branch, rows, headers=MEMBER_HEADERS):
    job = services.job_create(actor=actor, kind="members", branch=branch, upload=xlsx(headers, rows))
    services.job_check(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED, job.errors or job.message
    assert services.job_start_apply(job)
    return job


def applied(job):
    services.job_apply(job.pk)
    job.refresh_from_db()
    return job


def _no_reading(*args, **kwargs):
    raise AssertionError("the apply read the workbook again")


def test_the_apply_writes_the_checked_plan_without_reading_the_workbook_again(cast, tree, monkeypatch):
    job = checked(cast.commune_clerk, tree.phuc_xa, GOOD_MEMBERS)
    assert job.plan and len(job.file_sha256) == 64
    monkeypatch.setattr(services, "Sheet", _no_reading)
    monkeypatch.setattr(services, "parse_row", _no_reading)

    job = applied(job)

    assert job.status == ImportStatus.APPLIED, job.message
    an = Member.objects.get(citizen_id=AN_ID)
    assert (an.full_name, an.name_search, an.date_of_birth, an.branch, an.phone) == (
        "Nguyễn Văn An",
        "nguyen van an",
        datetime.date(1980, 3, 25),
        tree.phuc_xa,
        "0912345678",
    )
    assert Member.objects.get(full_name="Lê Văn Cường").citizen_id is None
    assert AuditEntry.objects.filter(action=AuditAction.CREATE).count() == 3
    assert AuditEntry.objects.get(action=AuditAction.IMPORT).changes["created"] == 3


def test_an_update_planned_by_the_check_is_applied_with_its_recorded_changes(cast, tree, monkeypatch):
    member = MemberFactory(
        full_name="Nguyễn Văn An",
        citizen_id=AN_ID,
        date_of_birth=datetime.date(1980, 3, 25),
        gender="male",
        branch=tree.phuc_xa,
        joined_on=datetime.date(2018, 3, 1),
        phone="0900000000",
        address="Số 1 Phúc Xá",
    )
    headers = ["Họ và tên", "Số CCCD", "Đối tượng", "Đơn vị hội (mã hoặc tên)", "Ngày vào hội", "Điện thoại"]
    job = checked(
        cast.commune_clerk,
        tree.phuc_xa,
        [["Nguyễn Văn An", AN_ID, "Công chức", "00001", "01/03/2018", "0912345678"]],
        headers,
    )
    monkeypatch.setattr(services, "Sheet", _no_reading)

    assert applied(job).status == ImportStatus.APPLIED
    member.refresh_from_db()
    assert (member.phone, member.address, member.gender) == ("0912345678", "Số 1 Phúc Xá", "male")
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_id=str(member.pk))
    assert entry.changes == {"phone": ["0900000000", "0912345678"]}


def test_a_member_edited_between_check_and_apply_refuses_the_whole_apply(cast, tree):
    member = MemberFactory(
        full_name="Nguyễn Văn An",
        citizen_id=AN_ID,
        date_of_birth=datetime.date(1980, 3, 25),
        branch=tree.phuc_xa,
        joined_on=datetime.date(2018, 3, 1),
        phone="0900000000",
    )
    job = checked(cast.commune_clerk, tree.phuc_xa, GOOD_MEMBERS)
    assert (job.to_create, job.to_update) == (2, 1)
    # Meanwhile another clerk corrects An's address on the portal.
    member.address = "Số 9 Phúc Xá"
    member.save()

    job = applied(job)

    assert job.status == ImportStatus.FAILED
    assert job.message.startswith("The data changed after the file was checked (the member matched by row 2")
    assert "Nothing was written" in job.message
    member.refresh_from_db()
    assert (member.phone, member.address) == ("0900000000", "Số 9 Phúc Xá")
    assert Member.objects.count() == 1
    assert not AuditEntry.objects.filter(action__in=[AuditAction.CREATE, AuditAction.UPDATE]).exists()


def test_a_member_added_with_a_planned_key_between_check_and_apply_refuses_the_apply(cast, tree):
    job = checked(cast.commune_clerk, tree.phuc_xa, GOOD_MEMBERS)
    # Meanwhile Lê Văn Cường (no citizen ID in the file) is registered by hand in the same unit.
    MemberFactory(full_name="Lê Văn Cường", date_of_birth=datetime.date(1950, 12, 12), branch=tree.phuc_xa)

    job = applied(job)

    assert job.status == ImportStatus.FAILED
    assert "was added" in job.message
    assert Member.objects.count() == 1


def test_a_file_replaced_after_the_check_is_refused(cast, tree):
    job = checked(cast.commune_clerk, tree.phuc_xa, GOOD_MEMBERS)
    other = xlsx(MEMBER_HEADERS, GOOD_MEMBERS[:1]).read()
    with job.file.storage.open(job.file.name, "wb") as handle:
        handle.write(other)

    job = applied(job)

    assert job.status == ImportStatus.FAILED
    assert job.message.startswith("The uploaded file changed after it was checked.")
    assert not Member.objects.exists()
    assert not AuditEntry.objects.exists()


def _apply_queries(actor, branch, rows) -> int:
    job = checked(actor, branch, rows)
    with CaptureQueriesContext(connection) as queries:
        services.job_apply(job.pk)
    job.refresh_from_db()
    assert (job.status, job.to_create) == (ImportStatus.APPLIED, len(rows)), job.message
    return len(queries)


def test_the_apply_of_a_kept_plan_makes_the_same_number_of_queries_per_chunk(cast, tree, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 100)
    one, two, three = (
        _apply_queries(cast.commune_clerk, tree.phuc_xa, _many_members(100 * chunks, offset=1000 * chunks))
        for chunks in (1, 2, 3)
    )
    assert three - two == two - one <= 5  # per chunk: verify, insert members, insert their audit rows
