"""Excel import of members and organisations: template, dry run, apply, refusals."""

import datetime
import io
import re
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from associations.models import (
    AuditAction,
    AuditEntry,
    Member,
    MemberCategory,
    Organization,
    OrganizationHeadcount,
    PersonalDataExport,
    PersonalDataExportKind,
)
from imports import services, tasks
from imports.models import ImportJob, ImportStatus
from khuyenhoc.signals import registry_changed
from tests.factories import MemberFactory, OrganizationFactory

MEMBER_HEADERS = [
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số CCCD",
    "Điện thoại",
    "Địa chỉ",
    "Đối tượng",
    "Cơ quan, đơn vị công tác",
    "Đơn vị hội (mã hoặc tên)",
    "Ngày vào hội",
    "Ngày ra hội",
]
ORGANIZATION_HEADERS = [
    "Tên cơ quan, đơn vị",
    "Loại hình",
    "Đơn vị hội (mã hoặc tên)",
    "Địa chỉ",
    "Hoạt động từ ngày",
    "Hoạt động đến ngày",
    "Năm báo cáo số lượng",
    "Số đảng viên",
    "Số cán bộ",
    "Số công chức",
    "Số viên chức",
    "Số người lao động",
]

# Valid citizen IDs: Hà Nội (001), born in the 1900s, male (0) or female (1), year digits.
AN_ID = "001080012345"  # male, 1980
BINH_ID = "001185000001"  # female, 1985

GOOD_MEMBERS = [
    # Excel date cells
    [
        "Nguyễn Văn An",
        datetime.datetime(1980, 3, 25),
        "Nam",
        AN_ID,
        "0912345678",
        "Số 1 Phúc Xá",
        "Công chức",
        None,
        "00001",
        datetime.datetime(2018, 3, 1),
        None,
    ],
    # dd/mm/yyyy text dates, branch by exact name
    ["Trần Thị Bình", "05/07/1985", "Nữ", BINH_ID, None, None, "Viên chức", None, "Phường Phúc Xá", "01/03/2019", None],
    # no citizen ID: matched on name + date of birth + branch
    ["Lê Văn Cường", "12/12/1950", "Nam", None, None, None, "Hưu trí", None, "00001", "15/06/2017", None],
]


def xlsx(headers, rows, name="hoi-vien.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Hội viên"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return SimpleUploadedFile(name, output.getvalue())


@pytest.fixture(autouse=True)
def _media_and_english(settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages are asserted in their English source
    with translation.override("en"):
        yield


@pytest.fixture
def upload(client_for, eager, django_capture_on_commit_callbacks):
    def send(user, kind, file):
        client = client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("imports:start", args=[kind]), {"file": file}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302, response.content.decode()[:2000]
        job = ImportJob.objects.latest("id")
        assert response["Location"] == reverse("imports:detail", args=[job.pk])
        return job

    return send


@pytest.fixture
def apply(client_for, eager, django_capture_on_commit_callbacks):
    def send(user, job):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).post(reverse("imports:apply", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302
        job.refresh_from_db()
        return job

    return send


def errors_of(job):
    return {(error["row"], error["column"]) for error in job.errors}


# --- The template ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "headers"), [("members", MEMBER_HEADERS), ("organizations", ORGANIZATION_HEADERS)])
def test_the_template_has_vietnamese_headers_and_an_instructions_sheet(client_for, cast, kind, headers):
    response = client_for(cast.commune_clerk).get(reverse("imports:template", args=[kind]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[1] == "Hướng dẫn"
    assert [cell.value for cell in workbook.worksheets[0][1]] == headers
    guide = "\n".join(str(cell.value) for row in workbook["Hướng dẫn"].iter_rows() for cell in row if cell.value)
    assert "dd/mm/yyyy" in guide
    for header in headers:
        assert header in guide


def test_the_member_template_offers_the_forms_word_for_a_retiree_and_old_files_still_read(client_for, cast):
    response = client_for(cast.commune_clerk).get(reverse("imports:template", args=["members"]))
    workbook = load_workbook(io.BytesIO(response.content))
    guide = "\n".join(str(cell.value) for row in workbook["Hướng dẫn"].iter_rows() for cell in row if cell.value)
    assert "Người nghỉ hưu" in guide  # as on the member form
    assert "Hưu trí" not in guide  # the old word is still read (the good file above uses it), not offered


def test_the_template_is_itself_a_valid_empty_import(upload, cast, client_for):
    response = client_for(cast.commune_clerk).get(reverse("imports:template", args=["members"]))
    job = upload(cast.commune_clerk, "members", SimpleUploadedFile("mau.xlsx", response.content))
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert job.message == "The sheet has headers but no data rows."


# --- Check and apply ------------------------------------------------------------------------------


def test_a_good_file_is_checked_then_applied_creating_the_members(upload, apply, cast, tree):
    signals = []
    registry_changed.connect(receiver := lambda **kwargs: signals.append(kwargs), weak=False)
    try:
        job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, GOOD_MEMBERS))
        job.refresh_from_db()
        assert job.status == ImportStatus.CHECKED, job.errors or job.message
        assert (job.total_rows, job.to_create, job.to_update, job.unchanged, job.error_count) == (3, 3, 0, 0, 0)
        assert [line["action"] for line in job.preview] == ["create", "create", "create"]
        assert Member.objects.count() == 0  # the check writes nothing

        job = apply(cast.commune_clerk, job)
    finally:
        registry_changed.disconnect(receiver)
    assert job.status == ImportStatus.APPLIED, job.message
    an = Member.objects.get(citizen_id=AN_ID)
    assert (an.full_name, an.name_search, an.date_of_birth, an.gender) == (
        "Nguyễn Văn An",
        "nguyen van an",
        datetime.date(1980, 3, 25),
        "male",
    )
    assert (an.branch, an.category, an.joined_on, an.phone) == (
        tree.phuc_xa,
        MemberCategory.CIVIL_SERVANT,
        datetime.date(2018, 3, 1),
        "0912345678",
    )
    binh = Member.objects.get(citizen_id=BINH_ID)
    assert (binh.date_of_birth, binh.joined_on, binh.branch) == (
        datetime.date(1985, 7, 5),
        datetime.date(2019, 3, 1),
        tree.phuc_xa,
    )
    assert Member.objects.get(full_name="Lê Văn Cường").citizen_id is None
    assert AuditEntry.objects.filter(action=AuditAction.CREATE).count() == 3
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=str(an.pk)).get().branch == tree.phuc_xa
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, object_id=str(job.pk)).count() == 1
    assert len(signals) == 1


def test_reimporting_the_same_file_changes_nothing(upload, apply, cast):
    rows = GOOD_MEMBERS
    apply(cast.commune_clerk, upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, rows)))
    members_before = list(Member.objects.order_by("id").values())
    audit_before = AuditEntry.objects.count()

    again = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, rows))
    again.refresh_from_db()
    assert (again.status, again.to_create, again.to_update, again.unchanged) == (ImportStatus.CHECKED, 0, 0, 3)
    again = apply(cast.commune_clerk, again)
    assert again.status == ImportStatus.APPLIED
    assert list(Member.objects.order_by("id").values()) == members_before
    assert AuditEntry.objects.count() == audit_before


def test_a_changed_row_updates_the_member_and_records_what_changed(upload, apply, cast, tree):
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
    # Only the columns present are compared: an existing member's other fields stay.
    headers = ["Họ và tên", "Số CCCD", "Đối tượng", "Đơn vị hội (mã hoặc tên)", "Ngày vào hội", "Điện thoại"]
    row = ["Nguyễn Văn An", AN_ID, "Công chức", "00001", "01/03/2018", "0912345678"]
    job = upload(cast.commune_clerk, "members", xlsx(headers, [row]))
    job.refresh_from_db()
    assert (job.to_create, job.to_update, job.unchanged) == (0, 1, 0)
    assert job.preview[0]["changes"] == ["Điện thoại"]
    apply(cast.commune_clerk, job)
    member.refresh_from_db()
    assert (member.phone, member.address, member.gender) == ("0912345678", "Số 1 Phúc Xá", "male")
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=str(member.pk)).get()
    assert entry.changes == {"phone": ["0900000000", "0912345678"]}
    assert entry.actor == cast.commune_clerk


def test_a_member_without_citizen_id_is_matched_on_name_birth_date_and_branch(upload, cast, tree):
    MemberFactory(
        full_name="Lê Văn Cường",
        date_of_birth=datetime.date(1950, 12, 12),
        branch=tree.phuc_xa,
        category=MemberCategory.RETIREE,
        joined_on=datetime.date(2017, 6, 15),
        gender="male",
    )
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [GOOD_MEMBERS[2]]))
    job.refresh_from_db()
    assert (job.to_create, job.to_update, job.unchanged) == (0, 0, 1)


def test_a_file_with_bad_rows_writes_nothing_and_names_each_row_and_column(upload, apply, cast):
    rows = [
        GOOD_MEMBERS[0],
        ["Phạm Thị Dung", "31/02/1990", "Nữ", None, None, None, "Công chức", None, "00001", "01/01/2020", None],
        [None, "01/01/1990", "Nam", None, None, None, "Công chức", None, "00001", "01/01/2020", None],
        ["Hoàng Văn Em", "01/01/1990", "Nam", None, None, None, "Bác sĩ", None, "00001", "01/01/2020", None],
        ["Vũ Văn Phong", "01/01/1990", "Nam", "123", None, None, "Công chức", None, "00001", "01/01/2020", None],
        # the ID says born 1980, the row says 1990
        ["Đỗ Văn Giang", "01/01/1990", "Nam", "001080099999", None, None, "Công chức", None, "00001", "1/1/2020", None],
        ["Ngô Văn Hải", "01/01/1990", "Nam", AN_ID, None, None, "Công chức", None, "00001", "01/01/2020", None],
        ["Lý Thị Hoa", "01/01/1990", "Nữ", None, None, None, "Công chức", None, "99999", "01/01/2020", None],
        ["Mai Văn Khoa", "01/01/1990", "Nam", None, None, None, "Công chức", None, "00001", "01/01/2020", "1/1/2019"],
    ]
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, rows))
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {
        (3, "Ngày sinh"),
        (4, "Họ và tên"),
        (5, "Đối tượng"),
        (6, "Số CCCD"),
        (7, "Số CCCD"),
        (8, "Số CCCD"),
        (9, "Đơn vị hội (mã hoặc tên)"),
        (10, "Ngày ra hội"),
    }
    messages = {(error["row"], error["message"]) for error in job.errors}
    assert (3, "This date does not exist.") in messages
    assert (4, "This column is required.") in messages
    assert (8, "The same citizen ID is already in row 2 of this file.") in messages
    assert (9, "No association unit with the code or name “99999” within your branch.") in messages
    # Row 8's other error is named in the same pass: its ID (born 1980) does not fit 1990.
    assert (8, "The citizen ID encodes birth year 1980, not the date of birth given.") in messages
    assert job.error_count == 9

    job = apply(cast.commune_clerk, job)  # refused: the job is not checked
    assert job.status == ImportStatus.INVALID
    assert Member.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_a_row_whose_branch_lies_outside_the_uploaders_subtree_is_an_error(upload, apply, cast, tree):
    outside = list(GOOD_MEMBERS[1])
    outside[8] = "00037"  # Phường Hàng Bạc, in Hoàn Kiếm
    beside = list(GOOD_MEMBERS[2])
    beside[8] = "Phường Trúc Bạch"  # Ba Đình, but not below the clerk's Phúc Xá
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [GOOD_MEMBERS[0], outside, beside]))
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {(3, "Đơn vị hội (mã hoặc tên)"), (4, "Đơn vị hội (mã hoặc tên)")}
    assert Member.objects.count() == 0

    # The Ba Đình manager may write Trúc Bạch, still not Hàng Bạc.
    job = upload(cast.manager, "members", xlsx(MEMBER_HEADERS, [GOOD_MEMBERS[0], outside, beside]))
    job.refresh_from_db()
    assert errors_of(job) == {(3, "Đơn vị hội (mã hoặc tên)")}
    assert Member.objects.count() == 0


def test_a_citizen_id_registered_outside_the_subtree_is_an_error(upload, cast, tree):
    outsider = MemberFactory(full_name="Nguyễn Văn An", citizen_id=AN_ID, branch=tree.hang_bac)
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [GOOD_MEMBERS[0]]))
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert job.errors == [
        {
            "row": 2,
            "column": "Số CCCD",
            "message": "This citizen ID is already registered to a member of the association. If it is the same "
            "person, ask the association above you to transfer their membership; otherwise check the number.",
        }
    ]
    # Where and who are not said; the lookup is in the personal-data log.
    lookup = PersonalDataExport.objects.get(kind=PersonalDataExportKind.CITIZEN_ID_LOOKUP)
    assert (lookup.user, lookup.branch, lookup.object_id) == (cast.commune_clerk, tree.phuc_xa, str(outsider.pk))


def test_a_change_between_check_and_apply_fails_the_whole_apply(upload, apply, cast, tree):
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, GOOD_MEMBERS))
    # Meanwhile someone registers Bình's citizen ID in another district.
    MemberFactory(full_name="Trần Thị Bình", citizen_id=BINH_ID, branch=tree.hang_bac)
    job = apply(cast.commune_clerk, job)
    assert job.status == ImportStatus.FAILED
    assert errors_of(job) == {(3, "Số CCCD")}
    assert Member.objects.count() == 1  # only the one registered meanwhile
    assert not AuditEntry.objects.filter(action=AuditAction.CREATE).exists()


def test_applying_twice_writes_once(upload, apply, cast):
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, GOOD_MEMBERS))
    apply(cast.commune_clerk, job)
    services.job_apply(job.pk)
    tasks.job_apply.apply(args=[job.pk, "en"])
    assert Member.objects.count() == 3
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_the_workplace_is_found_by_name_within_the_subtree(upload, apply, cast, tree):
    office = OrganizationFactory(name="UBND phường Phúc Xá", branch=tree.phuc_xa)
    OrganizationFactory(name="Trường THCS Ba Đình", branch=tree.truc_bach)  # outside the clerk's subtree
    row = list(GOOD_MEMBERS[0])
    row[7] = "ubnd  phường phúc xá"
    other = list(GOOD_MEMBERS[1])
    other[7] = "Trường THCS Ba Đình"
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [row, other]))
    job.refresh_from_db()
    assert errors_of(job) == {(3, "Cơ quan, đơn vị công tác")}

    job = apply(cast.commune_clerk, upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, [row])))
    assert Member.objects.get().organization == office


# --- Organisations --------------------------------------------------------------------------------


def test_organisations_with_their_headcount_are_imported_and_reimported_unchanged(upload, apply, cast, tree):
    rows = [
        ["UBND phường Phúc Xá", "Cơ quan nhà nước", "00001", "Phúc Xá", "01/01/2010", None, 2017, 3, 5, "12", 0, None],
        [
            "Trường Tiểu học Phúc Xá",
            "Trường học",
            "Phường Phúc Xá",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
    ]
    job = apply(cast.commune_clerk, upload(cast.commune_clerk, "organizations", xlsx(ORGANIZATION_HEADERS, rows)))
    assert (job.status, job.to_create) == (ImportStatus.APPLIED, 2), job.errors or job.message
    office = Organization.objects.get(name="UBND phường Phúc Xá")
    assert (office.kind, office.branch, office.active_from, office.name_search) == (
        "agency",
        tree.phuc_xa,
        datetime.date(2010, 1, 1),
        "ubnd phuong phuc xa",
    )
    headcount = OrganizationHeadcount.objects.get(organization=office)
    assert (headcount.year, headcount.party_members, headcount.cadres, headcount.civil_servants, headcount.workers) == (
        2017,
        3,
        5,
        12,
        0,
    )
    audit_before = AuditEntry.objects.count()

    again = upload(cast.commune_clerk, "organizations", xlsx(ORGANIZATION_HEADERS, rows))
    again.refresh_from_db()
    assert (again.to_create, again.to_update, again.unchanged) == (0, 0, 2)

    rows[0][8] = 6  # a corrected headcount updates the organisation's yearly report
    job = apply(cast.commune_clerk, upload(cast.commune_clerk, "organizations", xlsx(ORGANIZATION_HEADERS, rows)))
    assert (job.to_create, job.to_update) == (0, 1)
    assert OrganizationHeadcount.objects.get(organization=office).cadres == 6
    assert AuditEntry.objects.count() == audit_before + 2  # the update and the import


def test_an_organisation_row_with_headcounts_but_no_year_is_an_error(upload, cast):
    rows = [["UBND phường Phúc Xá", "Cơ quan nhà nước", "00001", None, None, None, None, 3, None, None, None, None]]
    job = upload(cast.commune_clerk, "organizations", xlsx(ORGANIZATION_HEADERS, rows))
    job.refresh_from_db()
    assert job.errors == [
        {"row": 2, "column": "Năm báo cáo số lượng", "message": "The year is required when headcounts are given."}
    ]


# --- Bad files --------------------------------------------------------------------------------------


def test_a_file_that_is_not_an_xlsx_is_refused_on_the_form(client_for, cast):
    response = client_for(cast.commune_clerk).post(
        reverse("imports:start", args=["members"]),
        {"file": SimpleUploadedFile("danh-sach.xlsx", b"Ho ten;Ngay sinh\nAn;1980\n")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "This is not an Excel .xlsx file." in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("headers", "rows", "message"),
    [
        (["Tên", "Tuổi"], [["An", 40]], "The headers in row 1 do not match the template"),
        (MEMBER_HEADERS, [], "The sheet has headers but no data rows."),
        ([], [], "The first row of the sheet must hold the column headers"),
    ],
)
def test_a_workbook_with_wrong_headers_or_no_rows_gets_a_clear_message(
    upload, client_for, cast, headers, rows, message
):
    job = upload(cast.commune_clerk, "members", xlsx(headers, rows))
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    assert job.message.startswith(message)
    page = client_for(cast.commune_clerk).get(reverse("imports:detail", args=[job.pk]))
    assert page.status_code == 200
    assert message in page.content.decode()


def test_a_formula_imports_its_computed_value_and_an_excel_error_is_refused(upload, cast):
    # What Excel saves for a formula: the formula and its last computed value. openpyxl
    # cannot compute, so the cached values are written into the sheet's XML by hand.
    source = xlsx(MEMBER_HEADERS, [GOOD_MEMBERS[0], GOOD_MEMBERS[1]]).read()
    patched = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(patched, "w") as target:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                name = '<c r="A2" t="str"><f>PROPER("nguyễn văn an")</f><v>Nguyễn Văn An</v></c>'
                broken = '<c r="I3" t="e"><f>#REF!</f><v>#REF!</v></c>'
                text = re.sub(r'<c r="A2".*?</c>', name, text, count=1)
                text = re.sub(r'<c r="I3".*?</c>', broken, text, count=1)
                data = text.encode()
            target.writestr(item, data)
    job = upload(cast.commune_clerk, "members", SimpleUploadedFile("f.xlsx", patched.getvalue()))
    job.refresh_from_db()
    assert errors_of(job) == {(3, "Đơn vị hội (mã hoặc tên)")}  # A2's computed name was read
    assert "#REF!" in job.errors[0]["message"]


# --- Access ---------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, cast):
    for url in (
        reverse("imports:template", args=["members"]),
        reverse("imports:start", args=["members"]),
        reverse("associations:member_export"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_leader_may_not_upload_or_apply(upload, client_for, cast):
    leader = client_for(cast.district_leader)
    assert leader.get(reverse("imports:start", args=["members"])).status_code == 403
    assert (
        leader.post(
            reverse("imports:start", args=["members"]), {"file": xlsx(MEMBER_HEADERS, GOOD_MEMBERS)}
        ).status_code
        == 403
    )
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, GOOD_MEMBERS))
    leader = client_for(cast.district_leader)
    assert leader.get(reverse("imports:detail", args=[job.pk])).status_code == 200  # may look
    assert leader.post(reverse("imports:apply", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    assert Member.objects.count() == 0


def test_a_clerk_of_another_district_cannot_see_or_apply_the_job(upload, client_for, cast):
    job = upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, GOOD_MEMBERS))
    outsider = client_for(cast.sibling_clerk)
    for name in ("detail", "progress"):
        assert outsider.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    assert outsider.post(reverse("imports:apply", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED


def test_an_unknown_kind_is_not_found(client_for, cast):
    assert client_for(cast.commune_clerk).get("/imports/lottery/new/").status_code == 404


# --- Scale ---------------------------------------------------------------------------------------


def _many_members(count: int, *, offset: int = 0):
    return [
        [
            f"Hội viên Số {offset + n}",
            f"{1 + n % 28:02d}/01/{1970 + n % 10}",
            "Nam",
            f"00107{n % 10}{offset + n:06d}",
            None,
            None,
            "Công chức",
            None,
            "00001",
            "01/01/2020",
            None,
        ]
        for n in range(count)
    ]


def _check_queries(job) -> int:
    with CaptureQueriesContext(connection) as queries:
        services.job_check(job.pk)
    job.refresh_from_db()
    assert (job.status, job.to_create) == (ImportStatus.CHECKED, job.total_rows), job.errors[:3]
    return len(queries)


def test_the_check_makes_the_same_number_of_queries_for_50_or_500_rows(cast, tree, tmp_path):
    small = services.job_create(
        actor=cast.commune_clerk, kind="members", branch=tree.phuc_xa, upload=xlsx(MEMBER_HEADERS, _many_members(50))
    )
    large = services.job_create(
        actor=cast.commune_clerk, kind="members", branch=tree.phuc_xa, upload=xlsx(MEMBER_HEADERS, _many_members(500))
    )
    assert _check_queries(small) == _check_queries(large) <= 10


def test_a_chunked_apply_makes_a_fixed_number_of_queries_per_chunk(
    cast, tree, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 100)
    job = services.job_create(
        actor=cast.commune_clerk, kind="members", branch=tree.phuc_xa, upload=xlsx(MEMBER_HEADERS, _many_members(500))
    )
    services.job_check(job.pk)
    assert services.job_start_apply(job)
    with django_assert_max_num_queries(12 + 5 * 4):  # per chunk: look up, insert members, insert audit (+1 spare)
        services.job_apply(job.pk)
    assert Member.objects.count() == 500
    assert AuditEntry.objects.filter(action=AuditAction.CREATE).count() == 500


# --- A real worker --------------------------------------------------------------------------------


def _wait_until_done(client, job) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        progress = client.get(reverse("imports:progress", args=[job.pk])).json()
        if progress["done"]:
            return progress
        time.sleep(0.2)
    raise AssertionError(f"the import did not finish: {progress}")


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_checks_and_applies_in_the_background(celery_worker_process, client_for, settings, cast):
    from django.conf import settings as django_settings

    settings.MEDIA_ROOT = django_settings.BASE_DIR / "media"  # where the worker process reads uploads
    client = client_for(cast.commune_clerk)
    response = client.post(
        reverse("imports:start", args=["members"]), {"file": xlsx(MEMBER_HEADERS, _many_members(1500))}
    )
    assert response.status_code == 302
    job = ImportJob.objects.latest("id")
    try:
        progress = _wait_until_done(client, job)
        assert progress == {"status": "checked", "processed": 1500, "total": 1500, "percent": 100, "done": True}

        assert client.post(reverse("imports:apply", args=[job.pk])).status_code == 302
        progress = _wait_until_done(client, job)
        assert (progress["status"], progress["percent"]) == ("applied", 100)
        assert Member.objects.count() == 1500
        page = client.get(reverse("imports:progress", args=[job.pk]), HTTP_HX_REQUEST="true")
        assert page["HX-Refresh"] == "true"
    finally:
        job.refresh_from_db()
        job.file.delete(save=False)


# --- Lost jobs and the list of imports ------------------------------------------------------------


def test_a_job_lost_while_checking_or_applying_is_given_up_after_the_timeout(cast, tree):
    import datetime as dt

    from django.core.cache import cache
    from django.utils import timezone

    def job_in(status, *, age_minutes):
        job = services.job_create(
            actor=cast.commune_clerk, kind="members", branch=tree.phuc_xa, upload=xlsx(MEMBER_HEADERS, GOOD_MEMBERS)
        )
        ImportJob.objects.filter(pk=job.pk).update(
            status=status, created_at=timezone.now() - dt.timedelta(minutes=age_minutes)
        )
        return job

    lost_check = job_in(ImportStatus.CHECKING, age_minutes=120)
    lost_apply = job_in(ImportStatus.APPLYING, age_minutes=120)
    alive = job_in(ImportStatus.APPLYING, age_minutes=120)
    cache.set(f"imports:heartbeat:{alive.pk}", time.time(), 600)  # its worker reported a chunk just now
    young = job_in(ImportStatus.CHECKING, age_minutes=5)
    done = job_in(ImportStatus.APPLIED, age_minutes=120)

    assert services.jobs_sweep_stuck() == 2
    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert statuses[lost_check.pk] == statuses[lost_apply.pk] == ImportStatus.FAILED
    assert (statuses[alive.pk], statuses[young.pk], statuses[done.pk]) == (
        ImportStatus.APPLYING,
        ImportStatus.CHECKING,
        ImportStatus.APPLIED,
    )
    assert "Nothing was written" in ImportJob.objects.get(pk=lost_apply.pk).message
    assert services.jobs_sweep_stuck() == 0  # running it again changes nothing


def test_the_sweeper_runs_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "imports.tasks.jobs_sweep_stuck" in tasks


def test_the_import_list_shows_the_imports_of_the_users_subtree_only(client_for, cast, tree):
    mine = services.job_create(
        actor=cast.commune_clerk, kind="members", branch=tree.phuc_xa, upload=xlsx(MEMBER_HEADERS, GOOD_MEMBERS)
    )
    theirs = services.job_create(
        actor=cast.sibling_clerk,
        kind="members",
        branch=tree.hoan_kiem,
        upload=xlsx(MEMBER_HEADERS, GOOD_MEMBERS, name="hoan-kiem.xlsx"),
    )
    client = client_for(cast.district_leader)
    page = client.get(reverse("imports:job_list")).content.decode()
    assert reverse("imports:detail", args=[mine.pk]) in page
    assert reverse("imports:detail", args=[theirs.pk]) not in page
    filtered = client.get(reverse("imports:job_list"), {"kind": "donations"}).content.decode()
    assert reverse("imports:detail", args=[mine.pk]) not in filtered


def test_the_upload_page_links_to_the_import_list(client_for, cast):
    page = client_for(cast.commune_clerk).get(reverse("imports:start", args=["members"])).content.decode()
    assert reverse("imports:job_list") in page


def test_the_import_list_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("imports:job_list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
