"""The workbook import of the centres' activities, end to end through the import jobs: the
template, the dry run, all or nothing, every error of a row at once, nothing recorded twice."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook, load_workbook

from associations.models import AuditAction, AuditEntry
from centres.models import Activity, ActivityKind, FundingSource
from imports import services
from imports.models import ImportStatus
from khuyenhoc.imports import adapter_class, build_template
from tests.centres import factories

pytestmark = pytest.mark.django_db

HEADERS = [
    "Đơn vị hội (mã hoặc tên)",
    "Loại hoạt động",
    "Lớp học, chuyên đề",
    "Ngày bắt đầu",
    "Ngày kết thúc",
    "Số buổi",
    "Số lượt người học",
    "Số giảng viên, báo cáo viên",
    "Tên giảng viên, báo cáo viên",
    "Kinh phí (đồng)",
    "Nguồn kinh phí",
]
GOOD = [
    ["00001", "Tin học, kỹ năng số", "Lớp tin học cho người cao tuổi", "04/03/2024", "28/03/2024", 8, 240, 1,
     "Nguyễn Văn An", "3.000.000", "Hội Khuyến học"],
    ["Phường Phúc Xá", "Pháp luật", "Chuyên đề Luật Đất đai", "12/04/2024", "12/04/2024", "1", "80", None, None,
     None, None],
    ["00004", "Dạy nghề", "Lớp nấu ăn", "05/05/2024", "30/06/2024", 12, 300, 2, "", "1,500,000",
     "Ngân sách nhà nước"],
]  # fmt: skip


def xlsx(rows, headers=HEADERS) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return SimpleUploadedFile("hoat-dong.xlsx", output.getvalue())


@pytest.fixture(autouse=True)
def _media_and_english(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


@pytest.fixture
def centres(tree):
    return {
        "phuc_xa": factories.centre(tree.phuc_xa),
        "truc_bach": factories.centre(tree.truc_bach, founded_on=datetime.date(2024, 1, 1)),
        "hang_bac": factories.centre(tree.hang_bac),
    }


def check(user, branch, rows):
    job = services.job_create(actor=user, kind="centre_activities", branch=branch, upload=xlsx(rows))
    services.job_check(job.pk)
    job.refresh_from_db()
    return job


def apply(job):
    assert services.job_start_apply(job), (job.status, job.errors[:5])
    services.job_apply(job.pk)
    job.refresh_from_db()
    return job


def errors_of(job) -> set[tuple]:
    return {(error["row"], error["column"], error["message"]) for error in job.errors}


def test_the_template_has_the_vietnamese_headers_and_the_instructions():
    adapter = adapter_class("centre_activities")
    output = io.BytesIO()
    build_template(adapter, output)
    workbook = load_workbook(io.BytesIO(output.getvalue()))
    assert [cell.value for cell in workbook.worksheets[0][1]] == HEADERS
    assert workbook.sheetnames[1] == "Hướng dẫn"
    assert adapter.template_filename == "mau-nhap-hoat-dong-tthtcd.xlsx"


def test_a_good_file_is_checked_without_writing_then_applied_with_an_audit_row_each(cast, tree, centres):
    job = check(cast.manager, tree.ba_dinh, GOOD)
    assert (job.status, job.to_create, job.error_count) == (ImportStatus.CHECKED, 3, 0), job.errors
    assert not Activity.objects.exists()

    job = apply(job)
    assert job.status == ImportStatus.APPLIED
    first, second, third = Activity.objects.order_by("starts_on")
    assert (first.centre, first.kind, first.sessions, first.participant_turns, first.funding, first.funding_source) == (
        centres["phuc_xa"], ActivityKind.IT, 8, 240, 3_000_000, FundingSource.ASSOCIATION
    )  # fmt: skip
    assert (second.instructors, second.funding, second.funding_source) == (0, 0, "")
    assert (third.centre, third.funding, third.created_by) == (centres["truc_bach"], 1_500_000, cast.manager)
    entries = AuditEntry.objects.filter(action=AuditAction.CREATE, object_id__in=[str(a.pk) for a in (first, third)])
    assert {entry.branch for entry in entries} == {tree.phuc_xa, tree.truc_bach}


def test_importing_the_same_file_again_records_nothing_twice(cast, tree, centres):
    apply(check(cast.manager, tree.ba_dinh, GOOD))
    job = check(cast.manager, tree.ba_dinh, GOOD)
    assert (job.status, job.to_create, job.unchanged) == (ImportStatus.CHECKED, 0, 3)
    apply(job)
    assert Activity.objects.count() == 3


def test_every_error_of_a_row_is_named_at_once_and_nothing_is_written(cast, tree, centres):
    recorded = factories.activity(centres["phuc_xa"], datetime.date(2024, 2, 1), title="Lớp cũ", sessions=3)
    rows = [
        GOOD[0],
        # ends before it starts, no session, no participant, money without its source
        ["00001", "Sức khỏe", "Chuyên đề sức khỏe", "10/03/2024", "01/03/2024", 0, 0, None, None, "200.000", None],
        # a district is no commune; a date that does not exist and a kind not in the list
        ["Quận Ba Đình", "Múa lân", "Lớp múa", "31/02/2024", "01/03/2024", 1, 10, None, None, None, None],
        # Trúc Bạch's centre was founded only in 2024
        ["00004", "Khác", "Lớp cũ", "05/05/2023", "05/05/2023", 1, 10, None, None, None, None],
        # outside the manager's subtree
        ["00061", "Khác", "Lớp Hàng Bạc", "05/05/2024", "05/05/2024", 1, 10, None, None, None, None],
        # the first row again
        GOOD[0],
        # an activity already recorded, with other figures
        ["00001", "Tin học, kỹ năng số", "Lớp cũ", "01/02/2024", "01/02/2024", 5, 100, None, None, None, None],
    ]  # fmt: skip
    job = check(cast.manager, tree.ba_dinh, rows)
    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {
        (3, "Ngày kết thúc", "The activity cannot end before it starts."),
        (3, "Số buổi", "An activity has at least one session."),
        (3, "Số lượt người học", "An activity has at least one participant-turn."),
        (3, "Nguồn kinh phí", "Say where the funding came from."),
        (4, "Loại hoạt động", "Expected one of: " + ", ".join(
            ["Xóa mù chữ, giáo dục thường xuyên", "Dạy nghề", "Kỹ năng sống", "Tin học, kỹ năng số", "Pháp luật",
             "Sức khỏe", "Văn hóa, văn nghệ, thể thao", "Khác"]) + "."),
        (4, "Ngày bắt đầu", "This date does not exist."),
        (5, "Đơn vị hội (mã hoặc tên)", "Phường Trúc Bạch has no community learning centre active on 05/05/2023."),
        (6, "Đơn vị hội (mã hoặc tên)", "No association unit with the code or name “00061” within your branch."),
        (7, "Lớp học, chuyên đề",
         "Row 2 of this file is the same activity (centre, class or topic, start date)."),
        (8, "Số buổi", "This activity is already recorded with other figures. Activities are never edited by an "
                       "import: void it on the portal, then import it again."),
    }  # fmt: skip
    assert list(Activity.objects.all()) == [recorded]


def test_a_district_typed_as_the_unit_is_refused(cast, tree, centres):
    row = ["Quận Ba Đình", "Khác", "Lớp", "05/05/2024", "05/05/2024", 1, 10, None, None, None, None]
    job = check(cast.manager, tree.ba_dinh, [row])
    assert errors_of(job) == {
        (2, "Đơn vị hội (mã hoặc tên)", "Choose a commune or ward association: centres belong to communes.")
    }


def test_a_file_whose_centre_was_changed_after_the_check_applies_nothing(cast, tree, centres):
    job = check(cast.manager, tree.ba_dinh, GOOD)
    assert job.status == ImportStatus.CHECKED
    centre = centres["truc_bach"]
    centre.founded_on = datetime.date(2024, 6, 1)  # the third row now starts before the centre
    centre.save()
    job = apply(job)
    assert job.status == ImportStatus.FAILED
    assert not Activity.objects.exists()
