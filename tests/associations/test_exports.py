"""Excel export of the filtered members and organisations lists."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from associations.models import MemberCategory, OrganizationKind
from tests.factories import MemberFactory, OrganizationFactory


def rows_of(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook.worksheets[0].iter_rows(values_only=True))


@pytest.fixture
def people(tree):
    office = OrganizationFactory(name="UBND phường Phúc Xá", branch=tree.phuc_xa)
    return {
        "an": MemberFactory(
            full_name="Nguyễn Văn An",
            branch=tree.phuc_xa,
            citizen_id="001080012345",
            date_of_birth=datetime.date(1980, 3, 25),
            gender="male",
            organization=office,
        ),
        "binh": MemberFactory(full_name="Trần Thị Bình", branch=tree.truc_bach, category=MemberCategory.RETIREE),
        "cuong": MemberFactory(full_name="Lê Văn Cường", branch=tree.hang_bac),
    }


def test_the_export_holds_only_the_members_the_user_may_see(client_for, cast, people):
    rows = rows_of(client_for(cast.district_leader).get(reverse("associations:member_export")))
    assert rows[0][:2] == ("Họ và tên", "Ngày sinh")
    names = sorted(row[0] for row in rows[1:])
    assert names == ["Nguyễn Văn An", "Trần Thị Bình"]  # Hoàn Kiếm's Cường is not Ba Đình's to see
    an = next(row for row in rows if row[0] == "Nguyễn Văn An")
    assert an == (
        "Nguyễn Văn An",
        "••/••/1980",  # a leader's export is masked (Law 91/2025/QH15)
        "Nam",
        "••••••••2345",
        None,
        None,
        "Công chức",
        "UBND phường Phúc Xá",
        "00001",
        datetime.datetime(2018, 3, 1),
        None,
    )


def test_the_export_follows_the_list_filters(client_for, cast, people, tree):
    client = client_for(cast.city_leader)
    rows = rows_of(client.get(reverse("associations:member_export"), {"category": MemberCategory.RETIREE}))
    assert [row[0] for row in rows[1:]] == ["Trần Thị Bình"]
    rows = rows_of(client.get(reverse("associations:member_export"), {"q": "cuong"}))
    assert [row[0] for row in rows[1:]] == ["Lê Văn Cường"]
    rows = rows_of(client.get(reverse("associations:member_export"), {"branch": tree.phuc_xa.pk}))
    assert [row[0] for row in rows[1:]] == ["Nguyễn Văn An"]


def test_a_sibling_branch_filter_gives_nothing_outside_the_subtree(client_for, cast, people, tree):
    rows = rows_of(
        client_for(cast.sibling_clerk).get(reverse("associations:member_export"), {"branch": tree.phuc_xa.pk})
    )
    assert [row[0] for row in rows[1:]] == ["Lê Văn Cường"]  # the foreign branch id is ignored, not obeyed


def test_the_export_makes_the_same_number_of_queries_for_3_or_60_members(
    client_for, cast, people, tree, django_assert_num_queries
):
    client = client_for(cast.district_leader)
    client.get(reverse("associations:member_export"))  # warm the session
    # + the row count and the record of the export; 7 with the history's path prefixes (issue 16)
    with django_assert_num_queries(7) as few:
        rows_of(client.get(reverse("associations:member_export")))
    for n in range(57):
        MemberFactory(full_name=f"Hội viên {n}", branch=tree.truc_bach, organization=people["an"].organization)
    with django_assert_num_queries(len(few.captured_queries)):
        rows = rows_of(client.get(reverse("associations:member_export")))
    assert len(rows) == 1 + 59


def test_organisations_export_with_their_kind_label_and_only_visible_rows(client_for, cast, tree):
    OrganizationFactory(name="Trường THCS Phúc Xá", branch=tree.phuc_xa, kind=OrganizationKind.SCHOOL)
    OrganizationFactory(name="Công ty Hàng Bạc", branch=tree.hang_bac, kind=OrganizationKind.ENTERPRISE)
    client = client_for(cast.commune_clerk)
    rows = rows_of(client.get(reverse("associations:organization_export")))
    assert rows == [
        (
            "Tên cơ quan, đơn vị",
            "Loại hình",
            "Đơn vị hội (mã hoặc tên)",
            "Địa chỉ",
            "Hoạt động từ ngày",
            "Hoạt động đến ngày",
        ),
        ("Trường THCS Phúc Xá", "Trường học", "00001", None, datetime.datetime(2010, 1, 1), None),
    ]
    assert rows_of(client.get(reverse("associations:organization_export"), {"kind": "enterprise"})) == rows[:1]


def test_an_exported_list_imports_back_unchanged(
    client_for, cast, people, settings, tmp_path, django_capture_on_commit_callbacks, eager
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.models import ImportJob, ImportStatus

    settings.MEDIA_ROOT = tmp_path
    client = client_for(cast.manager)
    response = client.get(reverse("associations:member_export"), {"personal": "1"})
    exported = b"".join(response.streaming_content)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("imports:start", args=["members"]),
            {"file": SimpleUploadedFile("hoi-vien.xlsx", exported)},
        )
    job = ImportJob.objects.get()
    assert (job.status, job.to_create, job.to_update, job.unchanged) == (ImportStatus.CHECKED, 0, 0, 2), job.errors


def test_anonymous_visitors_cannot_export(client, cast):
    for name in ("member_export", "organization_export"):
        response = client.get(reverse(f"associations:{name}"))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
