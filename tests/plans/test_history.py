"""Plan 99 on the dated tree: the same values for 2017–2020 before and after a
reorganisation, and the same days counted on today's map."""

import datetime
from types import SimpleNamespace

import pytest

from associations.models import Branch, BranchLevel, Member, MemberCategory, Organization, OrganizationKind
from plans.indicators import indicators_compute, indicators_compute_on_todays_map
from plans.services import plan_99_load
from tests.associations.reorg_factories import PART, WHOLE, found, reorganise
from tests.factories import HeadcountFactory, MemberFactory, make_branch, org_with_board

D = datetime.date
EFFECTIVE = D(2025, 7, 1)
TODAY = D(2026, 3, 1)
PLAN_YEARS = [D(year, 12, 31) for year in range(2017, 2021)]
BOARD_FOUNDED = D(2015, 1, 1)


@pytest.fixture
def city_2017(tree):
    """Organisations, boards, members and headcounts on the 2017 map.

    Phúc Xá: a town hall with a board, and a chapter with a school (its board under the chapter).
    Trúc Bạch: a clinic without a board (alive), a works with a board closed on 30/06/2019.
    Hàng Bạc: a town hall with a board."""
    chapter = make_branch("Chi hội Phúc Xá", BranchLevel.CHAPTER, tree.phuc_xa, founded_on=D(2010, 1, 1))
    town_hall = org_with_board(tree.phuc_xa, name="UBND Phúc Xá")
    school = Organization.objects.create(
        name="Trường Phúc Xá", kind=OrganizationKind.PUBLIC_SERVICE, branch=chapter, active_from=D(2010, 1, 1)
    )
    make_branch("Ban Trường Phúc Xá", BranchLevel.BOARD, chapter, organization=school, founded_on=BOARD_FOUNDED)
    clinic = Organization.objects.create(
        name="Trạm y tế Trúc Bạch",
        kind=OrganizationKind.PUBLIC_SERVICE,
        branch=tree.truc_bach,
        active_from=D(2010, 1, 1),
    )
    works = org_with_board(tree.truc_bach, name="Xí nghiệp Trúc Bạch", active_to=D(2019, 6, 30))
    hang_bac_hall = org_with_board(tree.hang_bac, name="UBND Hàng Bạc")
    joined = D(2016, 1, 1)
    for _ in range(2):
        MemberFactory(
            branch=tree.phuc_xa, organization=town_hall, category=MemberCategory.PARTY_MEMBER, joined_on=joined
        )
    MemberFactory(branch=chapter, organization=school, category=MemberCategory.PUBLIC_EMPLOYEE, joined_on=joined)
    MemberFactory(branch=tree.truc_bach, organization=clinic, category=MemberCategory.CADRE, joined_on=joined)
    MemberFactory(
        branch=tree.truc_bach,
        organization=works,
        category=MemberCategory.WORKER,
        joined_on=joined,
        left_on=D(2019, 6, 30),
    )
    MemberFactory(branch=tree.hang_bac, organization=hang_bac_hall, category=MemberCategory.WORKER, joined_on=joined)
    HeadcountFactory(organization=town_hall, year=2017, party_members=4)
    HeadcountFactory(organization=school, year=2017, public_employees=3)
    HeadcountFactory(organization=clinic, year=2017, cadres=2)
    HeadcountFactory(organization=works, year=2017, workers=1)
    HeadcountFactory(organization=hang_bac_hall, year=2017, workers=3)
    plan = plan_99_load()
    return SimpleNamespace(
        tree=tree,
        chapter=chapter,
        town_hall=town_hall,
        school=school,
        clinic=clinic,
        works=works,
        hang_bac_hall=hang_bac_hall,
        board=plan.targets.select_related("root_branch").get(indicator="board_coverage"),
        membership=plan.targets.select_related("root_branch").get(indicator="cadre_membership"),
    )


def apply_2025_round(city):
    """Phúc Xá whole and Trúc Bạch in part → Phường Ba Đình; Trúc Bạch's rest and Hàng Bạc
    → Phường Hoàn Kiếm; districts abolished; everything alive moves, the closed works stays."""
    tree = city.tree
    ba_dinh_ward = found("Phường Ba Đình", BranchLevel.COMMUNE, tree.city, EFFECTIVE, code="00004")
    hoan_kiem_ward = found("Phường Hoàn Kiếm", BranchLevel.COMMUNE, tree.city, EFFECTIVE, code="00070")
    where = {tree.phuc_xa.pk: ba_dinh_ward, tree.truc_bach.pk: hoan_kiem_ward, tree.hang_bac.pk: hoan_kiem_ward}
    alive_organisations = Organization.objects.filter(branch_id__in=where).active_on(EFFECTIVE)
    alive_members = Member.objects.filter(branch_id__in=where).active_on(EFFECTIVE)
    reorganise(
        effective_on=EFFECTIVE,
        edges=[
            (tree.phuc_xa, ba_dinh_ward, WHOLE),
            (tree.truc_bach, ba_dinh_ward, PART),
            (tree.truc_bach, hoan_kiem_ward, PART),
            (tree.hang_bac, hoan_kiem_ward, WHOLE),
        ],
        records=[(record, where[record.branch_id]) for record in [*alive_organisations, *alive_members]],
        rehang=[(city.chapter, ba_dinh_ward)],
        dissolve=[tree.ba_dinh, tree.hoan_kiem],
    )
    return SimpleNamespace(ba_dinh=ba_dinh_ward, hoan_kiem=hoan_kiem_ward)


def _plan_99_values(city):
    return {
        (target.indicator, day): indicators_compute(target=target, as_of=day)
        for target in (city.board, city.membership)
        for day in PLAN_YEARS
    }


def test_plan_99s_values_for_2017_to_2020_are_the_same_after_the_reorganisation(city_2017):
    before = _plan_99_values(city_2017)
    apply_2025_round(city_2017)
    after = _plan_99_values(city_2017)
    assert after == before
    tree = city_2017.tree
    # And they are what a clerk counts by hand on 31/12/2018 (the works still open).
    coverage = before[("board_coverage", D(2018, 12, 31))]
    assert coverage[tree.phuc_xa.pk] == (2, 2)
    assert coverage[city_2017.chapter.pk] == (1, 1)
    assert coverage[tree.truc_bach.pk] == (1, 2)
    assert coverage[tree.ba_dinh.pk] == (3, 4)
    assert coverage[tree.city.pk] == (4, 5)
    membership = before[("cadre_membership", D(2018, 12, 31))]
    assert membership[tree.phuc_xa.pk] == (3, 7)
    assert membership[tree.truc_bach.pk] == (2, 3)
    assert membership[tree.city.pk] == (6, 13)


def test_a_day_before_the_reorganisation_shows_only_the_branches_in_force_that_day(city_2017):
    wards = apply_2025_round(city_2017)
    values = indicators_compute(target=city_2017.board, as_of=D(2020, 12, 31))
    assert wards.ba_dinh.pk not in values
    assert city_2017.tree.phuc_xa.pk in values
    today = indicators_compute(target=city_2017.board, as_of=TODAY)
    assert city_2017.tree.phuc_xa.pk not in today
    assert city_2017.tree.ba_dinh.pk not in today
    assert today[wards.ba_dinh.pk] == (2, 2)


def test_on_todays_map_each_figure_counts_under_the_ward_its_records_went_to(city_2017):
    wards = apply_2025_round(city_2017)
    tree = city_2017.tree
    values, splits = indicators_compute_on_todays_map(target=city_2017.board, as_of=D(2018, 12, 31), today=TODAY)
    # Hand count on 31/12/2018: Phường Ba Đình has the town hall and the school (both with a
    # board) from Phúc Xá, and its chapter; Phường Hoàn Kiếm the clinic (split from Trúc
    # Bạch, it went there) and Hàng Bạc's town hall; the works closed in 2019 stayed on Trúc
    # Bạch, which was split: a separate line of the city.
    assert values[wards.ba_dinh.pk] == (2, 2)
    assert values[city_2017.chapter.pk] == (1, 1)
    assert values[wards.hoan_kiem.pk] == (1, 2)
    assert splits == {tree.city.pk: (1, 1)}
    assert values[tree.city.pk] == (4, 5)
    assert tree.ba_dinh.pk not in values and tree.truc_bach.pk not in values


def test_on_todays_map_membership_counts_the_split_units_leavers_apart(city_2017):
    wards = apply_2025_round(city_2017)
    tree = city_2017.tree
    values, splits = indicators_compute_on_todays_map(target=city_2017.membership, as_of=D(2018, 12, 31), today=TODAY)
    assert values[wards.ba_dinh.pk] == (3, 7)
    assert values[wards.hoan_kiem.pk] == (2, 5)
    assert splits == {tree.city.pk: (1, 1)}
    assert values[tree.city.pk] == (6, 13)


def test_a_whole_merged_units_closed_records_go_to_its_successor(city_2017):
    tree = city_2017.tree
    closed = org_with_board(tree.hang_bac, name="HTX Hàng Bạc", active_to=D(2019, 6, 30))
    wards = apply_2025_round(city_2017)
    assert Organization.objects.get(pk=closed.pk).branch_id == tree.hang_bac.pk
    values, _splits = indicators_compute_on_todays_map(target=city_2017.board, as_of=D(2018, 12, 31), today=TODAY)
    assert values[wards.hoan_kiem.pk] == (2, 3)


def test_the_computation_on_either_map_runs_a_fixed_few_queries(city_2017, django_assert_num_queries):
    apply_2025_round(city_2017)
    with django_assert_num_queries(2):
        indicators_compute(target=city_2017.board, as_of=D(2019, 12, 31))
    with django_assert_num_queries(3):
        indicators_compute(target=city_2017.membership, as_of=D(2019, 12, 31))
    with django_assert_num_queries(3):
        indicators_compute_on_todays_map(target=city_2017.board, as_of=D(2019, 12, 31), today=TODAY)
    with django_assert_num_queries(4):
        indicators_compute_on_todays_map(target=city_2017.membership, as_of=D(2019, 12, 31), today=TODAY)


def test_a_target_rooted_at_a_district_counts_its_subtree_as_it_was(city_2017):
    apply_2025_round(city_2017)
    tree = city_2017.tree
    target = city_2017.board
    target.root_branch = Branch.objects.get(pk=tree.ba_dinh.pk)
    values = indicators_compute(target=target, as_of=D(2018, 12, 31))
    assert {tree.ba_dinh.pk, tree.phuc_xa.pk, tree.truc_bach.pk, city_2017.chapter.pk} <= set(values)
    assert tree.hang_bac.pk not in values and tree.city.pk not in values
    assert values[tree.ba_dinh.pk] == (3, 4)
