"""The dated tree's reading side: the tree in force on a day, a record's branch on a day,
and where a dissolved branch's records count on today's map."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count
from django.urls import reverse

from associations.access import get_visible_or_404, require_write_in, staff_profile
from associations.history import branch_on, lineage_of, paths_on, today_successor, todays_places, tree_on
from associations.models import Branch, BranchLevel, DivisionType, Member, Organization, StaffProfile, StaffRole
from associations.rollup import roll_up_by_path
from tests.associations.reorg_factories import PART, WHOLE, found, reorganise
from tests.factories import MemberFactory, OrganizationFactory, StaffProfileFactory, UserFactory, make_branch

D = datetime.date
EFFECTIVE = D(2025, 7, 1)
BEFORE = D(2020, 12, 31)
AFTER = D(2025, 8, 1)


@pytest.fixture
def merged(tree):
    """Hanoi's 2025 round on the cast's tree: Phúc Xá whole and Trúc Bạch in part become
    Phường Ba Đình; the rest of Trúc Bạch and all of Hàng Bạc become Phường Hoàn Kiếm; the
    districts are abolished. Phúc Xá's chapter (with a board below it) is re-hung."""
    chapter = make_branch("Chi hội Phúc Xá 1", BranchLevel.CHAPTER, tree.phuc_xa)
    workplace = OrganizationFactory(name="Trường Phúc Xá", branch=chapter)
    board = make_branch("Ban Trường Phúc Xá", BranchLevel.BOARD, chapter, organization=workplace)
    alive = OrganizationFactory(name="UBND phường Phúc Xá", branch=tree.phuc_xa)
    split_alive = OrganizationFactory(name="Trạm y tế Trúc Bạch", branch=tree.truc_bach)
    closed = OrganizationFactory(name="Xí nghiệp Trúc Bạch", branch=tree.truc_bach, active_to=D(2019, 6, 30))
    hang_bac_org = OrganizationFactory(name="UBND phường Hàng Bạc", branch=tree.hang_bac)
    member = MemberFactory(branch=tree.phuc_xa, organization=alive)
    ba_dinh_ward = found(
        "Phường Ba Đình", BranchLevel.COMMUNE, tree.city, EFFECTIVE, code="00004", division_type=DivisionType.WARD
    )
    hoan_kiem_ward = found(
        "Phường Hoàn Kiếm", BranchLevel.COMMUNE, tree.city, EFFECTIVE, code="00070", division_type=DivisionType.WARD
    )
    reorganisation = reorganise(
        effective_on=EFFECTIVE,
        edges=[
            (tree.phuc_xa, ba_dinh_ward, WHOLE),
            (tree.truc_bach, ba_dinh_ward, PART),
            (tree.truc_bach, hoan_kiem_ward, PART),
            (tree.hang_bac, hoan_kiem_ward, WHOLE),
        ],
        records=[
            (alive, ba_dinh_ward),
            (split_alive, hoan_kiem_ward),
            (hang_bac_org, hoan_kiem_ward),
            (member, ba_dinh_ward),
        ],
        rehang=[(chapter, ba_dinh_ward)],
        dissolve=[tree.ba_dinh, tree.hoan_kiem],
    )
    for branch in (*vars(tree).values(), chapter, board, ba_dinh_ward, hoan_kiem_ward):
        branch.refresh_from_db()
    return SimpleNamespace(
        tree=tree,
        chapter=chapter,
        board=board,
        ba_dinh_ward=ba_dinh_ward,
        hoan_kiem_ward=hoan_kiem_ward,
        alive=alive,
        split_alive=split_alive,
        closed=closed,
        hang_bac_org=hang_bac_org,
        workplace=workplace,
        member=member,
        reorganisation=reorganisation,
    )


def test_the_tree_before_the_reorganisation_has_the_districts_and_the_chapter_under_its_old_commune(merged):
    tree = merged.tree
    paths = paths_on(BEFORE)
    assert set(paths) == {
        tree.city.pk,
        tree.ba_dinh.pk,
        tree.phuc_xa.pk,
        tree.truc_bach.pk,
        tree.hoan_kiem.pk,
        tree.hang_bac.pk,
        merged.chapter.pk,
        merged.board.pk,
    }
    assert paths[merged.chapter.pk].startswith(paths[tree.phuc_xa.pk])
    assert paths[merged.board.pk].startswith(paths[merged.chapter.pk])
    assert len(set(paths.values())) == len(paths)


def test_the_tree_after_the_reorganisation_is_the_city_and_its_two_wards(merged):
    tree = merged.tree
    paths = paths_on(AFTER)
    assert set(paths) == {
        tree.city.pk,
        merged.ba_dinh_ward.pk,
        merged.hoan_kiem_ward.pk,
        merged.chapter.pk,
        merged.board.pk,
    }
    assert paths[merged.chapter.pk] == merged.chapter.path
    assert paths[merged.chapter.pk].startswith(merged.ba_dinh_ward.path)
    assert tree_on(AFTER)[0] == (tree.city.pk, tree.city.path)


def test_the_tree_on_a_day_is_one_query(merged, django_assert_num_queries):
    with django_assert_num_queries(1):
        paths_on(BEFORE)


def test_records_are_counted_where_they_were_on_the_day(merged):
    tree = merged.tree

    def per_branch(day):
        rows = (
            Organization.objects.order_by()
            .values(on_day=branch_on(day, "associations.organization"))
            .annotate(n=Count("id"))
            .values_list("on_day", "n")
        )
        return dict(rows)

    assert per_branch(BEFORE) == {tree.phuc_xa.pk: 1, tree.truc_bach.pk: 2, tree.hang_bac.pk: 1, merged.chapter.pk: 1}
    assert per_branch(AFTER) == {
        merged.ba_dinh_ward.pk: 1,
        merged.hoan_kiem_ward.pk: 2,
        tree.truc_bach.pk: 1,
        merged.chapter.pk: 1,
    }


def test_a_figure_rolled_up_on_the_tree_of_the_day_is_what_the_district_had(merged):
    tree = merged.tree
    own = {
        (branch_id,): (n,)
        for branch_id, n in Organization.objects.order_by()
        .values(on_day=branch_on(BEFORE, "associations.organization"))
        .annotate(n=Count("id"))
        .values_list("on_day", "n")
    }
    totals = roll_up_by_path(own, path_of=paths_on(BEFORE))
    assert totals[(tree.ba_dinh.pk,)] == (4,)  # Phúc Xá's organisation, the school under its chapter, Trúc Bạch's two
    assert totals[(tree.phuc_xa.pk,)] == (2,)
    assert totals[(tree.hoan_kiem.pk,)] == (1,)
    assert totals[(tree.city.pk,)] == (5,)


def test_a_members_organisation_branch_on_the_day_follows_the_organisation(merged):
    tree = merged.tree
    expression = branch_on(
        BEFORE, "associations.organization", record="organization_id", current="organization__branch_id"
    )
    assert list(Member.objects.annotate(on_day=expression).values_list("on_day", flat=True)) == [tree.phuc_xa.pk]


def test_the_branch_on_a_day_is_looked_up_through_an_index_of_the_moved_records(merged):
    """Never a scan of every move per record. Two indexes serve the lookup: (record_type,
    record_id), and the once-per-reorganisation unique one, probed once per reorganisation
    after the day; the planner picks between them by the tables' history (after the demo's
    rows in the same database it took the second), so either is right."""
    queryset = Organization.objects.order_by().values(on_day=branch_on(BEFORE, "associations.organization"))
    with connection.cursor() as cursor:
        # The tables are tiny: forbid sequential scans so the plan shows the index the
        # subquery can use on a full-size table. Indexes and statistics are rebuilt from the
        # rows here: those an earlier test's big rows left in the same database (the demo's)
        # would have the planner walk another index whole.
        cursor.execute("REINDEX TABLE associations_recordmove")
        cursor.execute("REINDEX TABLE associations_reorganisation")
        cursor.execute("ANALYZE associations_recordmove, associations_reorganisation")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + str(queryset.query.sql_with_params()[0]), queryset.query.sql_with_params()[1])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on associations_recordmove" not in plan, plan
    assert re.search(r"Index (Only )?Scan using record_move_(record_idx|once_per_reorganisation) ", plan), plan
    assert re.search(r"Index Cond: .*record_id = ", plan), plan  # probed by the record, not walked whole


def test_todays_successor_follows_whole_edges_and_gives_none_for_a_split_unit(merged, django_assert_num_queries):
    tree = merged.tree
    with django_assert_num_queries(1):
        successors = today_successor([tree.phuc_xa.pk, tree.truc_bach.pk, tree.hang_bac.pk, tree.city.pk])
    assert successors == {
        tree.phuc_xa.pk: merged.ba_dinh_ward.pk,
        tree.truc_bach.pk: None,
        tree.hang_bac.pk: merged.hoan_kiem_ward.pk,
        tree.city.pk: tree.city.pk,
    }


def test_todays_successor_follows_two_rounds(merged):
    later = D(2026, 1, 1)
    renamed = found("Phường Ba Đình mới", BranchLevel.COMMUNE, merged.tree.city, later)
    reorganise(effective_on=later, edges=[(merged.ba_dinh_ward, renamed, WHOLE)])
    assert today_successor([merged.tree.phuc_xa.pk]) == {merged.tree.phuc_xa.pk: renamed.pk}


def test_a_draft_reorganisation_moves_nothing_in_history(tree):
    successor = found("Phường mới", BranchLevel.COMMUNE, tree.city, EFFECTIVE)
    reorganise(effective_on=EFFECTIVE, edges=[(tree.phuc_xa, successor, WHOLE)], status="draft")
    assert today_successor([tree.phuc_xa.pk]) == {tree.phuc_xa.pk: tree.phuc_xa.pk}


def test_on_todays_map_a_split_units_records_are_a_separate_line_of_the_city(merged, django_assert_num_queries):
    tree = merged.tree
    with django_assert_num_queries(2):
        places = todays_places(AFTER)
    assert places[tree.phuc_xa.pk] == (merged.ba_dinh_ward.pk, False)
    assert places[tree.hang_bac.pk] == (merged.hoan_kiem_ward.pk, False)
    assert places[tree.truc_bach.pk] == (tree.city.pk, True)
    assert places[tree.ba_dinh.pk] == (tree.city.pk, False)
    assert places[merged.chapter.pk] == (merged.chapter.pk, False)


def test_a_branch_page_lists_where_it_came_from_and_went_to(merged):
    tree = merged.tree
    came_from, went_to = lineage_of(merged.ba_dinh_ward)
    assert [(row.other.pk, row.kind) for row in came_from] == [(tree.phuc_xa.pk, WHOLE), (tree.truc_bach.pk, PART)]
    assert went_to == []
    came_from, went_to = lineage_of(tree.truc_bach)
    assert came_from == []
    assert sorted(row.other.name for row in went_to) == ["Phường Ba Đình", "Phường Hoàn Kiếm"]
    assert went_to[0].reorganisation.legal_basis == "1656/NQ-UBTVQH15"


def test_the_helper_keeps_the_engines_contract(merged):
    tree = merged.tree
    assert Branch.objects.get(pk=tree.phuc_xa.pk).dissolved_on == EFFECTIVE
    assert Branch.objects.get_parent(merged.chapter) == merged.ba_dinh_ward
    assert Branch.objects.get_parent(merged.board) == merged.chapter
    assert Organization.objects.get(pk=merged.closed.pk).branch_id == tree.truc_bach.pk


# --- Access across the reorganisation ---------------------------------------------------------
@pytest.fixture
def ward_staff(merged):
    """A clerk and a leader of the new Phường Ba Đình, a clerk of Phường Hoàn Kiếm."""

    def staff(username, branch, role):
        user = UserFactory(username=username)
        StaffProfileFactory(user=user, branch=branch, role=role)
        return user

    return SimpleNamespace(
        clerk=staff("clerk_phuong_ba_dinh", merged.ba_dinh_ward, StaffRole.CLERK),
        leader=staff("leader_phuong_ba_dinh", merged.ba_dinh_ward, StaffRole.LEADER),
        sibling_clerk=staff("clerk_phuong_hoan_kiem", merged.hoan_kiem_ward, StaffRole.CLERK),
    )


def test_a_new_wards_clerk_sees_its_predecessors_and_what_stayed_on_them(merged, ward_staff):
    tree = merged.tree
    branches = set(Branch.objects.visible_to(ward_staff.clerk).values_list("pk", flat=True))
    assert {tree.phuc_xa.pk, tree.truc_bach.pk, merged.ba_dinh_ward.pk, merged.chapter.pk} <= branches
    assert tree.hang_bac.pk not in branches
    assert tree.ba_dinh.pk not in branches and tree.city.pk not in branches
    organisations = set(Organization.objects.visible_to(ward_staff.clerk).values_list("name", flat=True))
    # The works closed in 2019 stayed on Trúc Bạch; the clinic went to the sibling ward.
    assert organisations == {"UBND phường Phúc Xá", "Trường Phúc Xá", "Xí nghiệp Trúc Bạch"}


def test_a_sibling_successors_clerk_does_not_see_what_went_to_the_other_ward(merged, ward_staff):
    organisations = set(Organization.objects.visible_to(ward_staff.sibling_clerk).values_list("name", flat=True))
    assert organisations == {"Trạm y tế Trúc Bạch", "UBND phường Hàng Bạc", "Xí nghiệp Trúc Bạch"}
    members = Member.objects.visible_to(ward_staff.sibling_clerk)
    assert not members.exists()


def test_history_is_seen_through_every_applied_round(merged, ward_staff):
    later = D(2026, 1, 1)
    renamed = found("Phường Ba Đình (mới)", BranchLevel.COMMUNE, merged.tree.city, later)
    reorganise(effective_on=later, edges=[(merged.ba_dinh_ward, renamed, WHOLE)])

    StaffProfile.objects.filter(user=ward_staff.clerk).update(branch=renamed)
    ward_staff.clerk.refresh_from_db()
    assert Branch.objects.visible_to(ward_staff.clerk).filter(pk=merged.tree.phuc_xa.pk).exists()


def test_the_visible_list_stays_one_query_with_history(merged, ward_staff, django_assert_num_queries):
    staff_profile(ward_staff.clerk)  # the profile is read once per request
    with django_assert_num_queries(1):
        list(Organization.objects.visible_to(ward_staff.clerk))
    with django_assert_num_queries(1):
        list(Member.objects.visible_to(ward_staff.clerk))


def test_nothing_is_written_under_a_dissolved_branch_even_by_an_administrator(merged, cast):
    with pytest.raises(PermissionDenied, match="đã giải thể từ ngày 01/07/2025"):
        require_write_in(cast.admin, merged.tree.phuc_xa)
    below = make_branch("Chi hội cũ", BranchLevel.CHAPTER, Branch.objects.get(pk=merged.tree.truc_bach.pk))
    with pytest.raises(PermissionDenied, match="Phường Trúc Bạch"):
        require_write_in(cast.admin, below)
    require_write_in(cast.admin, merged.ba_dinh_ward)


def test_a_predecessors_record_is_read_but_not_changed(merged, ward_staff):
    works = get_visible_or_404(ward_staff.clerk, Organization.objects, pk=merged.closed.pk)
    assert works.name == "Xí nghiệp Trúc Bạch"
    with pytest.raises(PermissionDenied):
        get_visible_or_404(ward_staff.clerk, Organization.objects, pk=merged.closed.pk, write=True)
    with pytest.raises(PermissionDenied):
        require_write_in(ward_staff.clerk, merged.tree.truc_bach)
    own = get_visible_or_404(ward_staff.clerk, Organization.objects, pk=merged.alive.pk, write=True)
    assert own.writable_by_user


# --- The branch page ---------------------------------------------------------------------------
def test_a_dissolved_branchs_page_shows_where_it_went_and_no_write_buttons(merged, ward_staff, client_for):
    response = client_for(ward_staff.clerk).get(reverse("associations:branch_detail", args=[merged.tree.truc_bach.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Phường Ba Đình" in text and "Phường Hoàn Kiếm" in text
    assert "1656/NQ-UBTVQH15" in text and "01/07/2025" in text
    assert reverse("associations:branch_update", args=[merged.tree.truc_bach.pk]) not in text
    assert "đã giải thể từ ngày 01/07/2025" in text or "01/07/2025" in response.context["read_only_reason"]
    assert response.context["can_change"] is False


def test_a_dissolved_branch_cannot_be_edited(merged, ward_staff, cast, client_for):
    url = reverse("associations:branch_update", args=[merged.tree.phuc_xa.pk])
    assert client_for(ward_staff.clerk).get(url).status_code == 403
    assert client_for(cast.admin).get(url).status_code == 403


def test_a_new_wards_page_shows_where_it_came_from_with_a_derived_flag(tree, cast, client_for):
    ward = found("Phường Ba Đình", BranchLevel.COMMUNE, tree.city, EFFECTIVE)
    reorganise(effective_on=EFFECTIVE, edges=[(tree.phuc_xa, ward, WHOLE)], derived=True, name="Vòng 2020")
    response = client_for(cast.admin).get(reverse("associations:branch_detail", args=[ward.pk]))
    assert [row.other.pk for row in response.context["came_from"]] == [tree.phuc_xa.pk]
    text = response.content.decode()
    assert "Vòng 2020" in text and "suy ra, không chính thức" in text
    assert response.context["can_change"] is True


def test_the_tree_page_shows_todays_tree_and_another_day_on_request(merged, cast, client_for):
    client = client_for(cast.admin)
    url = reverse("associations:branch_detail", args=[merged.tree.city.pk])
    today = client.get(url)
    assert {row["branch"].name for row in today.context["children"]} == {"Phường Ba Đình", "Phường Hoàn Kiếm"}
    rows = {row["branch"].name: row for row in today.context["children"]}
    assert rows["Phường Ba Đình"]["organizations"] == 2  # its town hall and the chapter's school
    past = client.get(url, {"on": "31/12/2020"})
    rows = {row["branch"].name: row for row in past.context["children"]}
    assert set(rows) == {"Quận Ba Đình", "Quận Hoàn Kiếm"}
    # On 31/12/2020: Phúc Xá's town hall and school, Trúc Bạch's clinic (the works closed in 2019).
    assert rows["Quận Ba Đình"]["organizations"] == 3
    assert "31/12/2020" in past.content.decode()
    bad = client.get(url, {"on": "2020-31-12x"})
    assert bad.status_code == 200 and bad.context["is_today"]


def test_a_dissolved_branch_shows_its_children_on_its_last_day(merged, cast, client_for):
    response = client_for(cast.admin).get(reverse("associations:branch_detail", args=[merged.tree.ba_dinh.pk]))
    assert response.context["day"] == D(2025, 6, 30)
    assert {row["branch"].name for row in response.context["children"]} == {"Phường Phúc Xá", "Phường Trúc Bạch"}


def test_the_refusal_page_says_why_a_dissolved_branch_cannot_be_changed(merged, cast, client_for):
    response = client_for(cast.admin).get(reverse("associations:branch_update", args=[merged.tree.phuc_xa.pk]))
    assert response.status_code == 403
    assert "Mục này thuộc một đơn vị đã giải thể: được lưu làm lịch sử" in response.content.decode()
