import datetime
import unicodedata

import pytest
from django.db import connection
from django.urls import reverse

from associations.models import AuditEntry, Member, MemberCategory, PersonalDataExport, PersonalDataExportKind
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("associations:member_list")
ADD = reverse("associations:member_create")


def valid_post(branch, **overrides):
    data = {
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "12/01/1985",
        "gender": "male",
        "citizen_id": "001085012345",
        "phone": "0912345678",
        "address": "Số 1 Phúc Xá",
        "category": MemberCategory.CIVIL_SERVANT,
        "branch": branch.pk,
        "joined_on": "01/03/2018",
    }
    data.update(overrides)
    return data


def test_anonymous_visitors_are_sent_to_sign_in(client, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    for url in (LIST, ADD, reverse("associations:member_detail", args=[member.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_clerk_sees_the_members_of_their_subtree_only(client_for, cast, tree):
    MemberFactory(full_name="Lê Thị Phúc Xá", branch=tree.phuc_xa)
    MemberFactory(full_name="Trần Văn Hàng Bạc", branch=tree.hang_bac)
    html = client_for(cast.commune_clerk).get(LIST).content.decode()
    assert "Lê Thị Phúc Xá" in html
    assert "Trần Văn Hàng Bạc" not in html
    assert "1 kết quả" in html


def test_the_list_never_counts_what_lies_outside_the_subtree(client_for, cast, tree):
    MemberFactory.create_batch(3, branch=tree.hang_bac)
    html = client_for(cast.district_leader).get(LIST).content.decode()
    assert "0 kết quả" in html


def test_a_member_of_another_district_answers_404(client_for, cast, tree):
    outsider = MemberFactory(branch=tree.hang_bac)
    client = client_for(cast.commune_clerk)
    for name in ("member_detail", "member_update"):
        assert client.get(reverse(f"associations:{name}", args=[outsider.pk])).status_code == 404
    assert (
        client.post(reverse("associations:member_end", args=[outsider.pk]), {"left_on": "01/01/2020"}).status_code
        == 404
    )


def test_the_list_query_count_does_not_grow_with_the_data(
    client_for, cast, tree, django_assert_max_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.district_leader)
    organization = OrganizationFactory(branch=tree.phuc_xa)
    MemberFactory.create_batch(3, branch=tree.phuc_xa, organization=organization)
    client.get(LIST)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(LIST)
    MemberFactory.create_batch(60, branch=tree.truc_bach, organization=organization)
    with CaptureQueriesContext(connection) as large:
        response = client.get(LIST)
    assert response.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    with django_assert_max_num_queries(9):  # 8 + the history's path prefixes (issue 16)
        client.get(LIST, {"q": "hội viên", "category": "civil_servant", "active": "1", "branch": tree.ba_dinh.pk})


def test_search_ignores_diacritics_and_unicode_normalisation(client_for, cast, tree):
    MemberFactory(full_name="Nguyễn Văn An", branch=tree.phuc_xa)
    MemberFactory(full_name="Phạm Thị Bình", branch=tree.phuc_xa)
    client = client_for(cast.commune_clerk)
    for query in ("nguyen van an", "NGUYEN", unicodedata.normalize("NFD", "Nguyễn"), "Nguyễn Văn"):
        html = client.get(LIST, {"q": query}).content.decode()
        assert "Nguyễn Văn An" in html, query
        assert "Phạm Thị Bình" not in html, query


def test_search_by_the_beginning_of_a_citizen_id(client_for, cast, tree):
    MemberFactory(full_name="Có Căn Cước", citizen_id="001085012345", branch=tree.phuc_xa)
    MemberFactory(full_name="Không Căn Cước", branch=tree.phuc_xa)
    html = client_for(cast.commune_clerk).get(LIST, {"q": "0010850"}).content.decode()
    assert "Có Căn Cước" in html and "Không Căn Cước" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ICU collation exists on PostgreSQL only")
def test_names_sort_in_vietnamese_alphabetical_order(client_for, cast, tree):
    expected = ["An", "Ăn", "Ân", "Bình", "Dung", "Đức", "Oanh", "Ơn", "Uyên", "Ưng"]
    for name in reversed(expected):
        MemberFactory(full_name=name, branch=tree.phuc_xa)
    response = client_for(cast.commune_clerk).get(LIST, {"sort": "name"})
    names = [member.full_name for member in response.context["page"]]
    assert names == expected


def test_a_clerk_adds_a_member_and_the_change_is_recorded(client_for, cast, tree):
    response = client_for(cast.commune_clerk).post(ADD, valid_post(tree.phuc_xa))
    member = Member.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("associations:member_detail", args=[member.pk])
    assert member.date_of_birth == datetime.date(1985, 1, 12)
    assert member.name_search == "nguyen van an"
    entry = AuditEntry.objects.get()
    assert entry.actor == cast.commune_clerk
    assert entry.action == "create"


def test_a_leader_may_not_add_or_change_members(client_for, cast, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    client = client_for(cast.district_leader)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, valid_post(tree.phuc_xa)).status_code == 403
    assert (
        client.post(reverse("associations:member_update", args=[member.pk]), valid_post(tree.phuc_xa)).status_code
        == 403
    )
    assert (
        client.post(reverse("associations:member_end", args=[member.pk]), {"left_on": "01/01/2020"}).status_code == 403
    )
    assert Member.objects.count() == 1


def test_a_clerk_cannot_place_a_member_in_another_district(client_for, cast, tree):
    response = client_for(cast.sibling_clerk).post(ADD, valid_post(tree.phuc_xa))
    assert response.status_code == 200
    assert "branch" in response.context["form"].errors
    assert Member.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("citizen_id", "12345", "Số căn cước công dân có đúng 12 chữ số."),
        ("citizen_id", "999085012345", "999 không phải mã tỉnh"),
        ("citizen_id", "001095012345", "năm sinh 1995"),
        ("date_of_birth", "01/13/1985", "Nhập một ngày hợp lệ."),
        ("date_of_birth", "12/01/2999", "Ngày sinh không thể ở tương lai."),
        ("full_name", "", "Trường này là bắt buộc."),
        ("full_name", "A\u202eB", "ký tự điều khiển"),
    ],
)
def test_bad_input_gets_a_vietnamese_message_and_writes_nothing(client_for, cast, tree, field, value, message):
    response = client_for(cast.commune_clerk).post(ADD, valid_post(tree.phuc_xa, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Member.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_a_citizen_id_is_unique(client_for, cast, tree):
    MemberFactory(full_name="Hoàng Văn Trùng", citizen_id="001085012345", branch=tree.phuc_xa)
    response = client_for(cast.commune_clerk).post(ADD, valid_post(tree.phuc_xa))
    assert response.status_code == 200
    html = response.content.decode()
    assert "đã tồn tại" in html
    assert "Hoàng Văn Trùng" in html  # she may see her own branch's member: she can open the record
    assert Member.objects.count() == 1
    assert not PersonalDataExport.objects.exists()


def test_a_citizen_id_held_in_another_district_is_refused_without_saying_where(client_for, cast, tree):
    holder = MemberFactory(full_name="Hoàng Văn Trùng", citizen_id="001085012345", branch=tree.hang_bac)
    response = client_for(cast.commune_clerk).post(ADD, valid_post(tree.phuc_xa))
    assert response.status_code == 200
    html = response.content.decode()
    assert "đã được đăng ký cho một hội viên" in html
    assert "Hoàng Văn Trùng" not in html and tree.hang_bac.name not in html and tree.hoan_kiem.name not in html
    assert Member.objects.count() == 1
    assert not AuditEntry.objects.exists()
    lookup = PersonalDataExport.objects.get()
    assert lookup.kind == PersonalDataExportKind.CITIZEN_ID_LOOKUP
    assert (lookup.user, lookup.branch, lookup.object_id) == (cast.commune_clerk, tree.phuc_xa, str(holder.pk))


def test_editing_a_member_shows_who_changed_what_in_the_history(client_for, cast, tree):
    client = client_for(cast.commune_clerk)
    client.post(ADD, valid_post(tree.phuc_xa))
    member = Member.objects.get()
    client.post(reverse("associations:member_update", args=[member.pk]), valid_post(tree.phuc_xa, phone="0987654321"))
    html = client.get(reverse("associations:member_detail", args=[member.pk])).content.decode()
    assert "0912345678 → 0987654321" in html
    assert "Trần Thị Lan" in html


def test_ending_a_membership_records_the_day_and_keeps_the_member(client_for, cast, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    client = client_for(cast.commune_clerk)
    response = client.post(
        reverse("associations:member_end", args=[member.pk]), {"left_on": "31/12/2019", "reason": "Chuyển nơi ở"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.left_on == datetime.date(2019, 12, 31)
    assert member.left_reason == "Chuyển nơi ở"
    html = client.get(reverse("associations:member_detail", args=[member.pk])).content.decode()
    assert "Đã rời hội ngày 31/12/2019" in html
    assert AuditEntry.objects.filter(action="end").count() == 1


def test_a_membership_cannot_end_before_it_began(client_for, cast, tree):
    member = MemberFactory(branch=tree.phuc_xa, joined_on=datetime.date(2018, 3, 1))
    response = client_for(cast.commune_clerk).post(
        reverse("associations:member_end", args=[member.pk]), {"left_on": "01/01/2017"}
    )
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.left_on is None
