"""The dated tree's reading side: the tree in force on a day, a record's branch on a day,
and where a dissolved branch's records count on today's map."""

import datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Count

from associations.history import branch_on, lineage_of, paths_on, today_successor, todays_places, tree_on
from associations.models import Branch, BranchLevel, DivisionType, Member, Organization
from associations.rollup import roll_up_by_path
from tests.associations.reorg_factories import PART, WHOLE, found, reorganise
from tests.factories import MemberFactory, OrganizationFactory, make_branch

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


def test_the_branch_on_a_day_is_looked_up_through_the_moved_records_index(merged):
    queryset = Organization.objects.order_by().values(on_day=branch_on(BEFORE, "associations.organization"))
    with connection.cursor() as cursor:
        # The tables are tiny: forbid sequential scans so the plan shows the index the
        # subquery can use on a full-size table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + str(queryset.query.sql_with_params()[0]), queryset.query.sql_with_params()[1])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "record_move_record_idx" in plan


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
