"""Lists (issue 15 item 7): page numbers, a total or an estimate, sortable columns, bulk actions."""

import datetime
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from associations import services
from associations.models import AuditAction, AuditEntry, Member
from associations.selectors import MEMBER_SORTS, members_filtered
from khuyenhoc.pagination import CappedPaginator, estimate_count
from tests.factories import MemberFactory

LEFT = datetime.date(2026, 6, 30)


def many_members(branch, count, **fields):
    return Member.objects.bulk_create(
        [
            Member(
                full_name=f"Hội viên Số {number:04d}",
                branch=branch,
                category="civil_servant",
                joined_on=datetime.date(2018, 3, 1),
                **fields,
            )
            for number in range(count)
        ]
    )


def page_links(html: str) -> list[str]:
    return re.findall(r'class="page-link"[^>]*>(\d+|…)<', html)


def test_a_long_list_shows_its_page_numbers_and_its_total(client_for, cast, tree):
    many_members(tree.phuc_xa, 560)  # twelve pages of 50
    client = client_for(cast.commune_clerk)
    html = client.get(reverse("associations:member_list")).content.decode()
    assert page_links(html) == ["1", "2", "3", "…", "12"]
    assert "560" in re.search(r'data-testid="result-count">(.*?)</p>', html, re.S).group(1)
    html = client.get(reverse("associations:member_list"), {"page": 6}).content.decode()
    assert page_links(html) == ["1", "…", "4", "5", "6", "7", "8", "…", "12"]


def test_beyond_the_cap_the_total_is_the_planners_estimate_labelled_as_one(client_for, cast, tree, monkeypatch):
    many_members(tree.phuc_xa, 40)
    monkeypatch.setattr(CappedPaginator, "cap", 10)
    client = client_for(cast.commune_clerk)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("associations:member_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    estimate = re.search(r'data-testid="result-estimate">About ([\d.]+) results', html)
    assert estimate is not None, html
    assert int(estimate.group(1).replace(".", "")) >= 11  # never below what was counted
    assert "More than 10 results" in html


def test_the_estimate_comes_from_the_planner_for_a_filtered_list(tree):
    many_members(tree.phuc_xa, 30)
    estimate = estimate_count(Member.objects.filter(branch=tree.phuc_xa))
    if connection.vendor == "postgresql":
        assert isinstance(estimate, int) and estimate >= 1
    else:
        assert estimate is None


def test_a_short_list_asks_for_no_estimate(tree):
    many_members(tree.phuc_xa, 3)
    paginator = CappedPaginator(Member.objects.all().order_by("id"), 50)
    assert paginator.count == 3
    assert paginator.estimate is None


def member_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("associations:member_list"), {"sort": "branch"}).status_code == 200
    return len(queries)


def test_the_capped_list_with_its_estimate_costs_the_same_queries_whatever_its_size(
    client_for, cast, tree, monkeypatch
):
    monkeypatch.setattr(CappedPaginator, "cap", 10)
    client = client_for(cast.commune_clerk)
    many_members(tree.phuc_xa, 20)
    small = member_list_queries(client)
    many_members(tree.phuc_xa, 200)
    assert member_list_queries(client) == small


@pytest.fixture
def named(tree):
    names = ["Vũ Thị Cúc", "Đinh Văn Bảo", "Dương Văn An", "Phạm Thị Lan", "Phan Văn Hà"]
    return [
        MemberFactory(full_name=name, branch=branch, joined_on=datetime.date(2018, 1, 1 + index))
        for index, (name, branch) in enumerate(
            zip(names, [tree.phuc_xa, tree.truc_bach, tree.phuc_xa, tree.truc_bach, tree.phuc_xa], strict=True)
        )
    ]


def test_names_sort_in_vietnamese_alphabetical_order(cast, named):
    names = [m.full_name for m in members_filtered(cast.district_leader, {"sort": "name"})]
    # D before Đ, and Phạm before Phan: letters first, tone marks only to break a tie.
    assert names == ["Dương Văn An", "Đinh Văn Bảo", "Phạm Thị Lan", "Phan Văn Hà", "Vũ Thị Cúc"]
    descending = [m.full_name for m in members_filtered(cast.district_leader, {"sort": "-name"})]
    assert descending == names[::-1]


@pytest.mark.parametrize("key", sorted(MEMBER_SORTS))
def test_every_allowed_sort_key_orders_the_list_with_a_stable_tie_breaker(cast, named, key, client_for):
    members = list(members_filtered(cast.district_leader, {"sort": key}))
    field, descending = MEMBER_SORTS[key]
    if field != "full_name":
        values = [(getattr_path(m, field), m.pk) for m in members]
        assert values == sorted(values, reverse=descending)
    response = client_for(cast.district_leader).get(reverse("associations:member_list"), {"sort": key})
    assert response.status_code == 200
    assert f'data-sort="{key.lstrip("-")}"' in response.content.decode()


def getattr_path(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def test_an_unknown_sort_key_falls_back_to_the_name_order(cast, named):
    default = [m.pk for m in members_filtered(cast.district_leader, {"sort": "name"})]
    assert [m.pk for m in members_filtered(cast.district_leader, {"sort": "citizen_id"})] == default
    assert [m.pk for m in members_filtered(cast.district_leader, {"sort": "-password; DROP"})] == default


# --- Bulk: end the membership of the checked members ---------------------------------------


def test_a_clerk_ends_the_checked_memberships_at_once_with_one_audit_row_each(client_for, cast, tree):
    first, second, kept = (MemberFactory(branch=tree.phuc_xa) for _ in range(3))
    response = client_for(cast.commune_clerk).post(
        reverse("associations:members_end"),
        {"ids": [first.pk, second.pk], "left_on": "30/06/2026", "reason": "Chuyển nơi ở", "back": "sort=joined"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("associations:member_list") + "?sort=joined"
    for member in (first, second):
        member.refresh_from_db()
        assert (member.left_on, member.left_reason) == (LEFT, "Chuyển nơi ở")
    kept.refresh_from_db()
    assert kept.left_on is None
    entries = AuditEntry.objects.filter(action=AuditAction.END).order_by("object_id")
    assert sorted(entry.object_id for entry in entries) == sorted([str(first.pk), str(second.pk)])
    assert all(entry.actor == cast.commune_clerk for entry in entries)


def test_one_member_already_gone_ends_none_of_the_checked(client_for, cast, tree):
    active = MemberFactory(branch=tree.phuc_xa, full_name="Nguyễn Văn Còn")
    gone = MemberFactory(branch=tree.phuc_xa, full_name="Lê Thị Đi", left_on=datetime.date(2025, 1, 1))
    with pytest.raises(ValidationError) as error:
        services.members_end(actor=cast.commune_clerk, member_ids=[active.pk, gone.pk], left_on=LEFT, reason="x")
    assert "Lê Thị Đi đã ra hội ngày 01/01/2025." in error.value.messages
    active.refresh_from_db()
    assert active.left_on is None
    assert not AuditEntry.objects.filter(action=AuditAction.END).exists()
    # Through the page: the same refusal, shown as messages, nothing written.
    response = client_for(cast.commune_clerk).post(
        reverse("associations:members_end"),
        {"ids": [active.pk, gone.pk], "left_on": "30/06/2026", "reason": "x"},
        follow=True,
    )
    assert "Lê Thị Đi" in response.content.decode()
    active.refresh_from_db()
    assert active.left_on is None


def test_a_member_outside_the_clerks_subtree_refuses_the_whole_action(client_for, cast, tree):
    mine = MemberFactory(branch=tree.phuc_xa)
    theirs = MemberFactory(branch=tree.hang_bac)
    with pytest.raises(PermissionDenied):
        services.members_end(actor=cast.commune_clerk, member_ids=[mine.pk, theirs.pk], left_on=LEFT, reason="x")
    response = client_for(cast.commune_clerk).post(
        reverse("associations:members_end"), {"ids": [mine.pk, theirs.pk], "left_on": "30/06/2026", "reason": "x"}
    )
    assert response.status_code == 403
    assert Member.objects.filter(left_on__isnull=False).count() == 0
    assert not AuditEntry.objects.filter(action=AuditAction.END).exists()


def test_a_leader_who_may_not_write_cannot_end_memberships(client_for, cast, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    response = client_for(cast.district_leader).post(
        reverse("associations:members_end"), {"ids": [member.pk], "left_on": "30/06/2026", "reason": "x"}
    )
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.left_on is None


def test_ending_asks_for_a_reason(cast, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    with pytest.raises(ValidationError):
        services.members_end(actor=cast.commune_clerk, member_ids=[member.pk], left_on=LEFT, reason="  ")


def test_ending_a_page_of_members_costs_the_same_queries_as_ending_two(cast, tree):
    warm, two, fifty = many_members(tree.phuc_xa, 1), many_members(tree.phuc_xa, 2), many_members(tree.phuc_xa, 50)
    services.members_end(actor=cast.commune_clerk, member_ids=[warm[0].pk], left_on=LEFT, reason="x")  # caches
    with CaptureQueriesContext(connection) as small:
        services.members_end(actor=cast.commune_clerk, member_ids=[m.pk for m in two], left_on=LEFT, reason="x")
    with CaptureQueriesContext(connection) as large:
        services.members_end(actor=cast.commune_clerk, member_ids=[m.pk for m in fifty], left_on=LEFT, reason="x")
    assert len(large) == len(small)


# --- Export the checked rows -------------------------------------------------------------------


def test_the_checked_members_export_alone(client_for, cast, tree):
    chosen = MemberFactory(branch=tree.phuc_xa, full_name="Nguyễn Văn Chọn")
    MemberFactory(branch=tree.phuc_xa, full_name="Trần Văn Bỏ")
    outside = MemberFactory(branch=tree.hang_bac, full_name="Lê Văn Ngoài")
    response = client_for(cast.commune_clerk).post(
        reverse("associations:member_export"), {"ids": [chosen.pk, outside.pk]}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["Nguyễn Văn Chọn"]  # Hàng Bạc's member is not the clerk's to export


def test_exporting_with_nothing_checked_says_so(client_for, cast, tree):
    MemberFactory(branch=tree.phuc_xa)
    response = client_for(cast.commune_clerk).post(reverse("associations:member_export"), {}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("associations:member_list")


def test_the_list_offers_checkboxes_and_select_all_on_the_page(client_for, cast, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    html = client_for(cast.commune_clerk).get(reverse("associations:member_list")).content.decode()
    assert 'data-select-all="ids"' in html
    assert f'name="ids" value="{member.pk}"' in html
    assert 'data-testid="end-selected"' in html
    leader = client_for(cast.district_leader).get(reverse("associations:member_list")).content.decode()
    assert 'data-testid="end-selected"' not in leader
    assert 'data-testid="export-selected"' in leader


def test_organisations_sort_by_each_allowed_key_and_ignore_unknown_ones(client_for, cast, tree):
    from associations.selectors import ORGANIZATION_SORTS, organizations_filtered
    from tests.factories import OrganizationFactory

    OrganizationFactory(name="Trường THCS Phúc Xá", branch=tree.phuc_xa, kind="school")
    OrganizationFactory(name="Đoàn thanh niên Trúc Bạch", branch=tree.truc_bach, kind="other")
    OrganizationFactory(name="Doanh nghiệp Ba Đình", branch=tree.phuc_xa, kind="enterprise")
    leader = cast.district_leader
    names = [o.name for o in organizations_filtered(leader, {"sort": "name"})]
    assert names == ["Doanh nghiệp Ba Đình", "Đoàn thanh niên Trúc Bạch", "Trường THCS Phúc Xá"]
    by_branch = list(organizations_filtered(leader, {"sort": "branch"}))
    assert [o.branch.path for o in by_branch] == sorted(o.branch.path for o in by_branch)
    assert [o.name for o in organizations_filtered(leader, {"sort": "address"})] == names
    client = client_for(leader)
    for key in ORGANIZATION_SORTS:
        assert client.get(reverse("associations:organization_list"), {"sort": key}).status_code == 200
