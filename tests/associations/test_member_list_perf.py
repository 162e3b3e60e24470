"""The member list's access filter as plain path prefixes (issue 16): the same members as the
access rule's `visible_to`, with a reorganisation's history or without, in a number of
queries that does not grow with the members or with the history."""

import datetime

import pytest
from django.urls import reverse

from associations.access import visible_prefixes
from associations.models import BranchLevel, Member, StaffProfile
from associations.selectors import members_filtered
from tests.associations.reorg_factories import PART, WHOLE, found, reorganise
from tests.associations.test_history import merged, ward_staff  # noqa: F401 — fixtures
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# Session, user, staff profile, the history's path prefixes, the capped count, the page.
MEMBER_LIST_QUERIES = 6


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "who", ["commune_clerk", "district_leader", "manager", "city_leader", "sibling_clerk", "admin"]
)
def test_the_prefix_filter_finds_the_members_the_access_rule_shows(cast, tree, who):
    for branch in (tree.phuc_xa, tree.truc_bach, tree.hang_bac, tree.city):
        MemberFactory(branch=branch)
    user = getattr(cast, who)
    assert _ids(Member.objects.visible_by_prefixes(user)) == _ids(Member.objects.visible_to(user))


def test_a_new_wards_staff_see_their_predecessors_members_on_the_list(merged, ward_staff):  # noqa: F811
    tree = merged.tree
    stayed = MemberFactory(branch=tree.truc_bach, full_name="Đỗ Thị Ở Lại")  # left on the dissolved commune
    elsewhere = MemberFactory(branch=tree.hang_bac, full_name="Lý Văn Khác")
    for user in (ward_staff.clerk, ward_staff.leader, ward_staff.sibling_clerk):
        assert _ids(Member.objects.visible_by_prefixes(user)) == _ids(Member.objects.visible_to(user))
    listed = {member.pk for member in members_filtered(ward_staff.clerk, {})}
    assert {merged.member.pk, stayed.pk} <= listed and elsewhere.pk not in listed
    assert visible_prefixes(ward_staff.clerk)[0] == merged.ba_dinh_ward.path
    assert set(visible_prefixes(ward_staff.clerk)[1:]) == {tree.phuc_xa.path, tree.truc_bach.path}


def test_history_through_two_rounds_is_one_prefix_per_outside_predecessor(merged, ward_staff):  # noqa: F811
    later = datetime.date(2026, 1, 1)
    renamed = found("Phường Ba Đình (mới)", BranchLevel.COMMUNE, merged.tree.city, later)
    reorganise(effective_on=later, edges=[(merged.ba_dinh_ward, renamed, WHOLE)])
    StaffProfile.objects.filter(user=ward_staff.clerk).update(branch=renamed)
    ward_staff.clerk._staff_profile_cache = False  # a new request reads the profile again
    prefixes = visible_prefixes(ward_staff.clerk)
    tree = merged.tree
    assert prefixes[0] == renamed.path
    assert set(prefixes[1:]) == {merged.ba_dinh_ward.path, tree.phuc_xa.path, tree.truc_bach.path}
    assert _ids(Member.objects.visible_by_prefixes(ward_staff.clerk)) == _ids(
        Member.objects.visible_to(ward_staff.clerk)
    )


def test_a_predecessor_inside_the_subtree_adds_no_prefix(cast, tree):
    successor = found("Phường Mới", BranchLevel.COMMUNE, tree.ba_dinh, datetime.date(2025, 7, 1))
    reorganise(effective_on=datetime.date(2025, 7, 1), edges=[(tree.phuc_xa, successor, PART)])
    assert visible_prefixes(cast.district_leader) == [tree.ba_dinh.path]
    assert visible_prefixes(cast.city_leader) == [tree.city.path]
    assert visible_prefixes(cast.admin) == [""]


def test_a_draft_reorganisation_shows_no_history(cast, tree):
    successor = found("Phường Nháp", BranchLevel.COMMUNE, tree.hoan_kiem, datetime.date(2025, 7, 1))
    reorganise(effective_on=datetime.date(2025, 7, 1), edges=[(tree.phuc_xa, successor, WHOLE)], status="draft")
    assert visible_prefixes(cast.sibling_clerk) == [tree.hoan_kiem.path]


@pytest.mark.parametrize("who", ["clerk", "leader"])
def test_the_list_keeps_its_queries_for_more_members_and_more_history(
    merged,  # noqa: F811
    ward_staff,  # noqa: F811
    client_for,
    who,
    django_assert_num_queries,
    settings,
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(getattr(ward_staff, who))
    url = reverse("associations:member_list")
    client.get(url)
    with django_assert_num_queries(MEMBER_LIST_QUERIES):
        client.get(url)
    for _ in range(30):
        MemberFactory(branch=merged.tree.truc_bach)
        MemberFactory(branch=merged.ba_dinh_ward)
    later = datetime.date(2026, 1, 1)
    renamed = found("Phường Ba Đình (mới)", BranchLevel.COMMUNE, merged.tree.city, later)
    reorganise(effective_on=later, edges=[(merged.tree.hang_bac, renamed, PART)])
    with django_assert_num_queries(MEMBER_LIST_QUERIES):
        page = client.get(url).content.decode()
    assert page.count('name="ids"') == 50


def test_the_branch_filter_narrows_to_a_predecessors_subtree(merged, ward_staff, client_for):  # noqa: F811
    tree = merged.tree
    MemberFactory(branch=tree.truc_bach, full_name="Đỗ Thị Ở Lại")
    MemberFactory(branch=merged.ba_dinh_ward, full_name="Ngô Văn Phường")
    page = (
        client_for(ward_staff.clerk)
        .get(reverse("associations:member_list"), {"branch": tree.truc_bach.pk})
        .content.decode()
    )
    assert "Đỗ Thị Ở Lại" in page and "Ngô Văn Phường" not in page
