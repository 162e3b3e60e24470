"""How the member import finds the registered members a row may stand for (by citizen ID, or
by name + date of birth + unit, with or without a date of birth), at the check and again when
the apply verifies the kept plan."""

import datetime

import pytest
from django.utils import translation

from associations.models import AuditAction, AuditEntry, Member
from imports import services
from imports.models import ImportStatus
from khuyenhoc.text import vietnamese_sort_string
from tests.associations.test_imports import MEMBER_HEADERS, xlsx
from tests.factories import MemberFactory


@pytest.fixture(autouse=True)
def _media_and_english(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


def _row(name, born, joined="01/01/2020", phone=None):
    return [name, born, "Nam", None, phone, None, "Công chức", None, "00001", joined, None]


def _checked(actor, branch, rows):
    job = services.job_create(actor=actor, kind="members", branch=branch, upload=xlsx(MEMBER_HEADERS, rows))
    services.job_check(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED, job.errors or job.message
    assert services.job_start_apply(job)
    return job


def _applied(job):
    services.job_apply(job.pk)
    job.refresh_from_db()
    return job


def test_a_row_without_a_date_of_birth_updates_the_registered_member_without_one(cast, tree):
    registered = MemberFactory(full_name="Đỗ Thị Hoa", date_of_birth=None, branch=tree.phuc_xa, phone="")
    MemberFactory(full_name="Đỗ Thị Hoa", date_of_birth=datetime.date(1970, 1, 1), branch=tree.phuc_xa)

    job = _applied(_checked(cast.commune_clerk, tree.phuc_xa, [_row("Đỗ Thị Hoa", None, phone="0912000111")]))

    assert (job.status, job.to_create, job.to_update) == (ImportStatus.APPLIED, 0, 1), job.message
    registered.refresh_from_db()
    assert registered.phone == "0912000111"
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=str(registered.pk)).exists()


def test_a_member_without_a_date_of_birth_added_between_check_and_apply_refuses_an_undated_row(cast, tree):
    job = _checked(cast.commune_clerk, tree.phuc_xa, [_row("Đỗ Thị Hoa", None), _row("Lê Văn Cường", "12/12/1950")])
    MemberFactory(full_name="Đỗ Thị Hoa", date_of_birth=None, branch=tree.phuc_xa)

    job = _applied(job)

    assert job.status == ImportStatus.FAILED
    assert "was added" in job.message
    assert Member.objects.count() == 1


def test_a_namesake_born_another_day_added_between_check_and_apply_does_not_stop_it(cast, tree):
    job = _checked(cast.commune_clerk, tree.phuc_xa, [_row("Lê Văn Cường", "12/12/1950"), _row("Đỗ Thị Hoa", None)])
    MemberFactory(full_name="Lê Văn Cường", date_of_birth=datetime.date(1951, 12, 12), branch=tree.phuc_xa)
    MemberFactory(full_name="Đỗ Thị Hoa", date_of_birth=datetime.date(1960, 1, 1), branch=tree.phuc_xa)

    job = _applied(job)

    assert (job.status, job.to_create) == (ImportStatus.APPLIED, 2), job.message
    assert Member.objects.filter(full_name="Lê Văn Cường").count() == 2


def test_the_apply_keeps_each_new_member_s_stored_fields_and_sort_key(cast, tree):
    job = _applied(_checked(cast.commune_clerk, tree.phuc_xa, [_row("Trần Thị Ánh", "05/06/1990", phone="0987654321")]))

    assert job.status == ImportStatus.APPLIED, job.message
    member = Member.objects.get()
    assert (
        member.name_search,
        member.name_sort,
        member.date_of_birth,
        member.phone,
        member.joined_on,
        member.left_reason,
        member.branch,
    ) == (
        "tran thi anh",
        vietnamese_sort_string("Trần Thị Ánh"),  # what Member.save stores
        datetime.date(1990, 6, 5),
        "0987654321",
        datetime.date(2020, 1, 1),
        "",
        tree.phuc_xa,
    )
    assert member.created_at is not None and member.updated_at is not None
