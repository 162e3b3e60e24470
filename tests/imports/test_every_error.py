"""Imports name every error of every row in one pass, and give the workbook back with its
errors marked (issue 15, item 3)."""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from imports.models import ImportJob, ImportStatus
from khuyenhoc.imports.annotate import BAD_FILL, ERROR_HEADER, AnnotatedCopy
from tests.associations.test_imports import MEMBER_HEADERS, xlsx
from tests.funds.test_donation_import import DONATION_HEADERS, PHUC_XA_FUND
from tests.funds.test_donation_import import xlsx as donation_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_and_english(settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


@pytest.fixture
def upload(client_for, eager, django_capture_on_commit_callbacks):
    def send(user, kind, file):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).post(reverse("imports:start", args=[kind]), {"file": file})
        assert response.status_code == 302
        return ImportJob.objects.latest("id")

    return send


GOOD = ["Nguyễn Văn An", "25/03/1980", "Nam", None, None, None, "Công chức", None, "00001", "01/03/2018", None]
# Three errors in one row: a date that does not exist and an unknown category (cells), and a
# unit that is not in the uploader's branch (found by the adapter).
THREE = ["Trần Thị Bình", "31/02/1990", "Nữ", None, None, None, "Bác sĩ", None, "99999", "01/03/2018", None]


def annotated_rows(client, job):
    response = client.get(reverse("imports:annotated", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="hoi-vien-loi.xlsx"')
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.active


def test_a_row_with_three_errors_names_all_three_in_one_upload(upload, cast):
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [GOOD, THREE]))
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert {(error["row"], error["column"]) for error in job.errors} == {
        (3, "Ngày sinh"),
        (3, "Đối tượng"),
        (3, "Đơn vị hội (mã hoặc tên)"),
    }
    assert job.error_count == 3


def test_the_workbook_comes_back_with_an_error_column_and_the_bad_cells_filled(upload, cast, client_for):
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [GOOD, [None] * 11, THREE]))
    job.refresh_from_db()
    sheet = annotated_rows(client_for(cast.commune_clerk), job)
    rows = list(sheet.iter_rows())
    width = len(MEMBER_HEADERS)
    assert [cell.value for cell in rows[0]] == [*MEMBER_HEADERS, ERROR_HEADER]
    # Row numbers are the original's: the blank row 3 is kept, the bad row is row 4.
    assert rows[1][0].value == "Nguyễn Văn An"
    assert len(rows[1]) == width or rows[1][width].value is None  # a good row has no note
    assert all(cell.value is None for cell in rows[2])
    bad = rows[3]
    assert bad[0].value == "Trần Thị Bình"
    note = bad[width].value
    assert "Ngày sinh:" in note and "Đối tượng:" in note and "Đơn vị hội (mã hoặc tên):" in note
    filled = {index for index, cell in enumerate(bad[:width]) if cell.fill.fgColor.rgb == BAD_FILL.fgColor.rgb}
    assert filled == {MEMBER_HEADERS.index(h) for h in ("Ngày sinh", "Đối tượng", "Đơn vị hội (mã hoặc tên)")}
    assert rows[1][0].fill.fgColor.rgb != BAD_FILL.fgColor.rgb


def test_the_job_page_offers_the_marked_file_to_those_who_may_write(upload, cast, client_for):
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [THREE]))
    link = reverse("imports:annotated", args=[job.pk])
    assert link in client_for(cast.commune_clerk).get(reverse("imports:detail", args=[job.pk])).content.decode()
    leader = client_for(cast.district_leader)
    assert link not in leader.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert leader.get(link).status_code == 403  # the file holds personal data
    assert client_for(cast.sibling_clerk).get(link).status_code == 404


def test_a_clean_file_has_no_marked_copy(upload, cast, client_for):
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [GOOD]))
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED and not job.annotated
    assert client_for(cast.commune_clerk).get(reverse("imports:annotated", args=[job.pk])).status_code == 404


def test_a_donation_row_names_its_unknown_fund_its_future_date_and_its_bad_amount_at_once(upload, cast, funds):
    rows = [
        ["Quỹ không có", None, None, "15/03/2999", "Nguyễn Văn An", "Cá nhân", "một triệu", "Tiền mặt", None, None],
        [PHUC_XA_FUND, None, None, "15/03/2999", "Lê Văn Bình", "Cá nhân", "100.000", "Hiện vật", None, None],
    ]
    job = upload(cast.commune_clerk, "donations", donation_xlsx(DONATION_HEADERS, rows))
    job.refresh_from_db()
    assert {(error["row"], error["column"]) for error in job.errors} == {
        (2, "Quỹ"),
        (2, "Số tiền (đồng)"),
        (2, "Ngày nhận"),
        (3, "Ngày nhận"),
        (3, "Hiện vật"),
    }


def test_errors_are_listed_in_row_order(upload, cast):
    rows = [THREE, [*GOOD[:8], "99999", *GOOD[9:]]]
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, rows))
    job.refresh_from_db()
    numbers = [error["row"] for error in job.errors]
    assert numbers == sorted(numbers)


def test_the_marked_copy_is_written_in_write_only_mode_from_a_read_only_original(tmp_path):
    workbook = Workbook()
    workbook.active.append(["Họ và tên", "Ngày sinh"])
    for number in range(5):
        workbook.active.append([f"Người {number}", "01/01/2000"])
    path = tmp_path / "goc.xlsx"
    workbook.save(path)
    with open(path, "rb") as source:
        copy = AnnotatedCopy(source, {"Ngày sinh": 1})
        assert copy.out.write_only and copy.workbook.read_only
        copy.copy_until(3, [(3, "Ngày sinh", "Ngày không có thật.")])
        assert copy.next_number == 4  # rows 2 and 3 copied, nothing further read
        marked = load_workbook(copy.finish()).active
    rows = list(marked.iter_rows(values_only=True))
    assert len(rows) == 6
    assert rows[2][2] == "Ngày sinh: Ngày không có thật."
    assert marked.cell(row=3, column=2).fill.fgColor.rgb == BAD_FILL.fgColor.rgb
