"""Excel imports of households, clans, communities and citizens, end to end through the import jobs."""

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import Workbook, load_workbook

from associations.models import (
    AuditAction,
    AuditEntry,
    BranchLevel,
    PersonalDataExport,
    PersonalDataExportKind,
)
from imports import services
from imports.models import ImportStatus
from khuyenhoc.imports import adapter_class, build_template
from learning.models import Citizen, Clan, Community, Household
from tests.factories import MemberFactory, make_branch
from tests.learning.subject_factories import CitizenFactory, HouseholdFactory

HOUSEHOLD_HEADERS = ["Chủ hộ", "Địa chỉ", "Đơn vị hội (mã hoặc tên)", "Số nhân khẩu", "Số người trong độ tuổi lao động"]
CLAN_HEADERS = [
    "Tên dòng họ",
    "Người đại diện",
    "Nơi cư trú",
    "Đơn vị hội (mã hoặc tên)",
    "Số người trong độ tuổi lao động",
]
COMMUNITY_HEADERS = [
    "Tên thôn, tổ dân phố",
    "Đơn vị hội (mã hoặc tên)",
    "Số hộ gia đình",
    "Số người trong độ tuổi lao động",
]
CITIZEN_HEADERS = ["Họ và tên", "Ngày sinh", "Số CCCD", "Đơn vị hội (mã hoặc tên)"]
AN_ID = "001080012345"  # Hà Nội, male, 1980
BINH_ID = "001185000001"  # Hà Nội, female, 1985

GOOD_HOUSEHOLDS = [
    ["Nguyễn Văn An", "Số 1 ngõ 2 Phúc Xá", "00001", 4, 2],
    ["Trần Thị Bình", "Số 3 ngõ 2 Phúc Xá", "Phường Phúc Xá", "5", None],
    ["Lê Văn Cường", "Số 9 Trúc Bạch", "00004", 3, 3],
]


def xlsx(headers, rows, name="danh-sach.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return SimpleUploadedFile(name, output.getvalue())


@pytest.fixture(autouse=True)
def _media_and_english(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


def check(user, branch, kind, headers, rows):
    job = services.job_create(actor=user, kind=kind, branch=branch, upload=xlsx(headers, rows))
    services.job_check(job.pk)
    job.refresh_from_db()
    return job


def apply(job):
    assert services.job_start_apply(job), (job.status, job.errors[:5])
    services.job_apply(job.pk)
    job.refresh_from_db()
    return job


def run(user, branch, kind, headers, rows):
    return apply(check(user, branch, kind, headers, rows))


def errors_of(job) -> set[tuple]:
    return {(error["row"], error["column"], error["message"]) for error in job.errors}


# --- Templates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "headers", "filename"),
    [
        ("households", HOUSEHOLD_HEADERS, "mau-nhap-ho-gia-dinh.xlsx"),
        ("clans", CLAN_HEADERS, "mau-nhap-dong-ho.xlsx"),
        ("communities", COMMUNITY_HEADERS, "mau-nhap-cong-dong.xlsx"),
        ("citizens", [*CITIZEN_HEADERS, "Thôn, tổ dân phố"], "mau-nhap-cong-dan-hoc-tap.xlsx"),
    ],
)
def test_each_subject_has_a_template_with_vietnamese_headers_and_instructions(kind, headers, filename):
    adapter = adapter_class(kind)
    output = io.BytesIO()
    build_template(adapter, output)

    workbook = load_workbook(io.BytesIO(output.getvalue()))
    assert [cell.value for cell in workbook.worksheets[0][1]] == headers
    assert workbook.sheetnames[1] == "Hướng dẫn"
    assert adapter.template_filename == filename


# --- Households -----------------------------------------------------------------------------------


def test_a_good_household_file_creates_the_households_each_with_an_audit_entry(cast, tree):
    job = check(cast.manager, tree.ba_dinh, "households", HOUSEHOLD_HEADERS, GOOD_HOUSEHOLDS)
    assert (job.status, job.to_create, job.error_count) == (ImportStatus.CHECKED, 3, 0), job.errors
    assert not Household.objects.exists()  # the check writes nothing

    job = apply(job)

    assert job.status == ImportStatus.APPLIED, job.message
    households = {h.head_name: h for h in Household.objects.select_related("branch")}
    assert {name: (h.branch.name, h.people, h.working_people) for name, h in households.items()} == {
        "Nguyễn Văn An": ("Phường Phúc Xá", 4, 2),
        "Trần Thị Bình": ("Phường Phúc Xá", 5, 0),
        "Lê Văn Cường": ("Phường Trúc Bạch", 3, 3),
    }
    assert households["Nguyễn Văn An"].name_search == "nguyen van an — so 1 ngo 2 phuc xa"
    entry = AuditEntry.objects.for_object(households["Trần Thị Bình"]).get()
    assert (entry.action, entry.actor) == (AuditAction.CREATE, cast.manager)
    assert entry.changes["address"] == "Số 3 ngõ 2 Phúc Xá"
    assert entry.changes["branch"] == "Phường Phúc Xá"
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_a_file_with_two_bad_rows_names_every_error_of_each_row_and_writes_nothing(cast, tree):
    rows = [
        GOOD_HOUSEHOLDS[0],
        ["Phạm Văn Dũng", "Số 4 Phúc Xá", "Phường Không Có", 0, None],  # unknown unit, nobody in it
        ["Hoàng Thị Em", "Số 5 Phúc Xá", "001", 2, 3],  # a district, more workers than people
    ]

    job = check(cast.manager, tree.ba_dinh, "households", HOUSEHOLD_HEADERS, rows)

    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {
        (
            3,
            "Đơn vị hội (mã hoặc tên)",
            "No association unit with the code or name “Phường Không Có” within your branch.",
        ),
        (3, "Số nhân khẩu", "A household has at least one person."),
        (4, "Đơn vị hội (mã hoặc tên)", "Choose a chapter or a commune or ward association."),
        (4, "Số người trong độ tuổi lao động", "A household cannot have more people of working age than people."),
    }
    assert not services.job_start_apply(job)
    assert not Household.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_leaders_apply_is_refused_and_writes_nothing(cast, tree):
    job = apply(check(cast.district_leader, tree.ba_dinh, "households", HOUSEHOLD_HEADERS, GOOD_HOUSEHOLDS))

    assert job.status == ImportStatus.FAILED
    assert errors_of(job) == {(None, "", "Your account may no longer change this branch's records.")}
    assert not Household.objects.exists()
    assert not AuditEntry.objects.exists()


def test_applying_the_same_file_again_changes_nothing(cast, tree):
    run(cast.manager, tree.ba_dinh, "households", HOUSEHOLD_HEADERS, GOOD_HOUSEHOLDS)
    entries = AuditEntry.objects.count()

    again = check(cast.manager, tree.ba_dinh, "households", HOUSEHOLD_HEADERS, GOOD_HOUSEHOLDS)
    assert (again.to_create, again.to_update, again.unchanged) == (0, 0, 3)
    again = apply(again)

    assert again.status == ImportStatus.APPLIED
    assert Household.objects.count() == 3
    assert AuditEntry.objects.count() == entries


def test_a_household_is_matched_on_head_and_address_without_accents_and_updated(cast, tree):
    household = HouseholdFactory(branch=tree.phuc_xa, head_name="Nguyễn Văn An", address="Số 1 ngõ 2 Phúc Xá", people=3)

    job = run(
        cast.commune_clerk,
        tree.phuc_xa,
        "households",
        HOUSEHOLD_HEADERS,
        [["nguyen van  AN", "so 1 ngo 2 phuc xa", "00001", 4, 2]],
    )

    assert (job.to_create, job.to_update) == (0, 1)
    household.refresh_from_db()
    assert (household.people, household.working_people) == (4, 2)
    changes = AuditEntry.objects.for_object(household).get(action=AuditAction.UPDATE).changes
    assert changes["number of people"] == [3, 4]
    assert "people of working age" not in changes  # 2 before and after


def test_a_household_outside_the_uploaders_subtree_is_an_error(cast, tree):
    job = check(cast.commune_clerk, tree.phuc_xa, "households", HOUSEHOLD_HEADERS, [["A", "B", "00061", 2, 1]])
    assert errors_of(job) == {
        (2, "Đơn vị hội (mã hoặc tên)", "No association unit with the code or name “00061” within your branch.")
    }


def test_the_same_household_twice_in_a_file_is_an_error(cast, tree):
    job = check(
        cast.commune_clerk, tree.phuc_xa, "households", HOUSEHOLD_HEADERS, [GOOD_HOUSEHOLDS[0], GOOD_HOUSEHOLDS[0]]
    )
    assert errors_of(job) == {
        (3, "Chủ hộ", "Row 2 of this file is the same household (head and address) under the same unit.")
    }


# --- Clans and communities ------------------------------------------------------------------------


def test_clans_are_imported_then_updated_by_name_within_their_branch(cast, tree):
    rows = [["Dòng họ Nguyễn", "Nguyễn Văn Bình", "Phúc Xá", "00001", 120]]
    run(cast.commune_clerk, tree.phuc_xa, "clans", CLAN_HEADERS, rows)
    job = run(
        cast.commune_clerk,
        tree.phuc_xa,
        "clans",
        CLAN_HEADERS,
        [["dòng họ  nguyễn", "Nguyễn Văn Chung", "Phúc Xá", "00001", 120]],
    )

    assert (job.to_create, job.to_update) == (0, 1)
    clan = Clan.objects.get()
    assert clan.representative == "Nguyễn Văn Chung"
    assert AuditEntry.objects.for_object(clan).get(action=AuditAction.UPDATE).changes["representative"] == [
        "Nguyễn Văn Bình",
        "Nguyễn Văn Chung",
    ]


def test_a_village_under_a_chapter_is_an_error_and_under_a_commune_is_imported(cast, tree):
    make_branch("Chi hội Tổ 5", BranchLevel.CHAPTER, tree.phuc_xa, code="C0005")
    job = check(
        cast.commune_clerk,
        tree.phuc_xa,
        "communities",
        COMMUNITY_HEADERS,
        [["Tổ dân phố số 5", "C0005", 200, 500], ["Tổ dân phố số 6", "00001", 180, None]],
    )
    assert errors_of(job) == {
        (2, "Đơn vị hội (mã hoặc tên)", "A village or residential group belongs to a commune or ward association.")
    }

    job = run(
        cast.commune_clerk, tree.phuc_xa, "communities", COMMUNITY_HEADERS, [["Tổ dân phố số 6", "00001", 180, None]]
    )
    assert job.status == ImportStatus.APPLIED
    assert Community.objects.values_list("name", "households", "working_people").get() == ("Tổ dân phố số 6", 180, 0)


# --- Citizens -------------------------------------------------------------------------------------


def test_citizens_are_imported_and_linked_to_the_members_of_the_subtree_only(cast, tree):
    member = MemberFactory(branch=tree.phuc_xa, citizen_id=AN_ID)
    MemberFactory(branch=tree.hang_bac, citizen_id=BINH_ID)
    rows = [
        ["Nguyễn Văn An", "25/03/1980", AN_ID, "00001"],
        ["Trần Thị Bình", "05/07/1985", BINH_ID, "00001"],
        ["Lê Văn Cường", "12/12/1950", None, "00001"],
    ]

    job = run(cast.commune_clerk, tree.phuc_xa, "citizens", CITIZEN_HEADERS, rows)

    assert job.status == ImportStatus.APPLIED, job.message
    citizens = {c.full_name: c for c in Citizen.objects.all()}
    assert citizens["Nguyễn Văn An"].member == member
    assert citizens["Trần Thị Bình"].member is None  # a member of another district is not linked
    assert citizens["Trần Thị Bình"].citizen_id == BINH_ID
    assert citizens["Lê Văn Cường"].citizen_id is None
    assert AuditEntry.objects.for_object(citizens["Nguyễn Văn An"]).get().changes["member"] == member.full_name
    assert not PersonalDataExport.objects.exists()

    again = run(cast.commune_clerk, tree.phuc_xa, "citizens", CITIZEN_HEADERS, rows)
    assert (again.to_create, again.to_update, again.unchanged) == (0, 0, 3)


def test_a_citizen_id_of_a_citizen_outside_the_subtree_is_an_error_that_says_not_where(cast, tree):
    holder = CitizenFactory(branch=tree.hang_bac, citizen_id=AN_ID, full_name="Nguyễn Văn Ẩn")

    job = check(
        cast.commune_clerk, tree.phuc_xa, "citizens", CITIZEN_HEADERS, [["Nguyễn Văn An", "25/03/1980", AN_ID, "00001"]]
    )

    ((row, column, message),) = errors_of(job)
    assert (row, column) == (2, "Số CCCD")
    assert message.startswith("This citizen ID is already registered to a learning citizen.")
    assert "Hàng Bạc" not in message and "Ẩn" not in message
    lookup = PersonalDataExport.objects.get(kind=PersonalDataExportKind.CITIZEN_ID_LOOKUP)
    assert lookup.object_id == f"learning.citizen:{holder.pk}"


def test_a_citizen_row_names_every_error_at_once(cast, tree):
    job = check(
        cast.commune_clerk,
        tree.phuc_xa,
        "citizens",
        CITIZEN_HEADERS,
        [["Nguyễn Văn An", "25/03/1990", AN_ID, "Phường Hàng Bạc"], ["Trần Thị Bình", None, "999185000001", "00001"]],
    )

    assert errors_of(job) == {
        (
            2,
            "Đơn vị hội (mã hoặc tên)",
            "No association unit with the code or name “Phường Hàng Bạc” within your branch.",
        ),
        (2, "Số CCCD", "The citizen ID encodes birth year 1980, not the date of birth given."),
        (3, "Số CCCD", "999 is not a province code: a citizen ID starts with the code of the province of birth."),
    }
    assert not Citizen.objects.exists()


# --- Scale ----------------------------------------------------------------------------------------


def _households(count: int):
    return [[f"Chủ Hộ {n}", f"Số {n} Phúc Xá", "00001", 4, 2] for n in range(count)]


def _citizens(count: int):
    return [
        [f"Công Dân {n}", f"{1 + n % 28:02d}/01/{1970 + n % 10}", f"00107{n % 10}{n:06d}", "00001"]
        for n in range(count)
    ]


def _apply_queries(cast, tree, kind, headers, rows) -> int:
    # Both runs start with the content types unread (the audit rows name theirs): whether an
    # earlier test of the same process read them must not change the count.
    ContentType.objects.clear_cache()
    job = check(cast.commune_clerk, tree.phuc_xa, kind, headers, rows)
    assert job.status == ImportStatus.CHECKED, job.errors[:3]
    assert services.job_start_apply(job)
    with CaptureQueriesContext(connection) as queries:
        services.job_apply(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED, job.message
    return len(queries)


@pytest.mark.parametrize(
    ("kind", "headers", "rows", "per_chunk"),
    [
        # look up the chunk's households, insert them, insert their audit rows
        ("households", HOUSEHOLD_HEADERS, _households, 3),
        # look up the chunk's members, then its citizens, insert them, insert their audit rows
        ("citizens", CITIZEN_HEADERS, _citizens, 4),
    ],
)
def test_a_chunked_apply_makes_a_fixed_number_of_queries_per_chunk(
    cast, tree, monkeypatch, kind, headers, rows, per_chunk
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 100)

    two_chunks = _apply_queries(cast, tree, kind, headers, rows(200))
    model = Household if kind == "households" else Citizen
    model.objects.all().delete()
    five_chunks = _apply_queries(cast, tree, kind, headers, rows(500))

    assert five_chunks - two_chunks == 3 * per_chunk
    assert model.objects.count() == 500
