"""Plan 99 on the dated tree: the same values for 2017–2020 before and after a
reorganisation, and the same days counted on today's map."""

import datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse

from associations import history
from associations.models import Branch, BranchLevel, Member, MemberCategory, Organization, OrganizationKind
from plans import indicators, scoped
from plans.indicators import indicators_compute, indicators_compute_on_todays_map
from plans.models import IndicatorValue, OnMap
from plans.selectors import dashboard_for
from plans.services import indicators_recompute_all, plan_99_load
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
    with django_assert_num_queries(2):
        indicators_compute(target=city_2017.membership, as_of=D(2019, 12, 31))
    with django_assert_num_queries(3):
        indicators_compute_on_todays_map(target=city_2017.board, as_of=D(2019, 12, 31), today=TODAY)
    with django_assert_num_queries(3):
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


# --- The dashboard's switch between the two maps ----------------------------------------------
@pytest.fixture
def recomputed(city_2017):
    wards = apply_2025_round(city_2017)
    indicators_recompute_all(today=TODAY)
    return SimpleNamespace(city=city_2017, wards=wards)


def _children(response, indicator="board_coverage"):
    item = next(t for t in response.context["dashboard"].targets if t.target.indicator == indicator)
    rows = {row.branch.name: (row.now.numerator, row.now.denominator) for row in item.children}
    split = (item.split.now.numerator, item.split.now.denominator) if item.split else None
    return rows, split


def test_the_dashboard_shows_a_past_date_on_the_map_in_force_then(recomputed, cast, client_for):
    url = reverse("plans:dashboard_branch", args=[recomputed.city.tree.city.pk])
    response = client_for(cast.admin).get(url, {"as_of": "2018-12-31"})
    rows, split = _children(response)
    assert rows == {"Quận Ba Đình": (3, 4), "Quận Hoàn Kiếm": (1, 1)}
    assert split is None


def test_the_dashboard_shows_a_past_date_on_todays_map_with_the_split_units_apart(recomputed, cast, client_for):
    url = reverse("plans:dashboard_branch", args=[recomputed.city.tree.city.pk])
    response = client_for(cast.admin).get(url, {"as_of": "2018-12-31", "map": "today"})
    rows, split = _children(response)
    # The hand count of test_on_todays_map_each_figure_counts_under_the_ward_its_records_went_to.
    assert rows == {"Phường Ba Đình": (2, 2), "Phường Hoàn Kiếm": (1, 2)}
    assert split == (1, 1)
    item = next(t for t in response.context["dashboard"].targets if t.target.indicator == "board_coverage")
    # The table is the target's drill-down, loaded when opened (issue 16), with the same map and date.
    children = reverse("plans:dashboard_children", args=[recomputed.city.tree.city.pk, item.target.pk])
    assert f"{children}?map=today&amp;as_of=2018-12-31" in response.content.decode()
    text = client_for(cast.admin).get(children, {"as_of": "2018-12-31", "map": "today"}).content.decode()
    assert "Từ các đơn vị bị chia tách" in text
    # The drill-down keeps the map and the date.
    ward_url = reverse("plans:dashboard_branch", args=[recomputed.wards.ba_dinh.pk])
    assert f"{ward_url}?map=today&amp;as_of=2018-12-31" in text


def test_a_new_wards_dashboard_has_its_history_only_on_todays_map(recomputed, cast, client_for):
    client = client_for(cast.admin)
    url = reverse("plans:dashboard_branch", args=[recomputed.wards.ba_dinh.pk])
    on_todays_map = client.get(url, {"map": "today"})
    board = next(t for t in on_todays_map.context["dashboard"].targets if t.target.indicator == "board_coverage")
    assert [(f.as_of, f.numerator, f.denominator) for f in board.trend][:4] == [
        (D(2017, 12, 31), 1, 2),  # the town hall's board was founded on 01/01/2018
        (D(2018, 12, 31), 2, 2),
        (D(2019, 12, 31), 2, 2),
        (D(2020, 12, 31), 2, 2),
    ]
    in_force = client.get(url)
    board = next(t for t in in_force.context["dashboard"].targets if t.target.indicator == "board_coverage")
    assert [f.as_of for f in board.trend] == [TODAY]


def test_the_dashboard_reads_the_same_few_queries_on_either_map(recomputed, django_assert_num_queries):
    city = Branch.objects.get(pk=recomputed.city.tree.city.pk)
    with django_assert_num_queries(5):
        dashboard_for(city, as_of=D(2018, 12, 31))
    with django_assert_num_queries(5):
        dashboard_for(city, on_map=OnMap.TODAY, as_of=D(2018, 12, 31))


def test_the_recompute_stores_todays_map_only_for_days_before_the_reorganisation(recomputed):
    days = set(IndicatorValue.objects.exclude(on_map=OnMap.IN_FORCE).values_list("as_of", flat=True).distinct())
    assert days == {*PLAN_YEARS, D(2025, 3, 1)}
    assert not IndicatorValue.objects.filter(
        on_map=OnMap.IN_FORCE, as_of=TODAY, branch_id=recomputed.city.tree.phuc_xa.pk
    ).exists()


def test_a_recompute_run_reads_each_days_tree_once_for_both_targets_and_stores_what_each_alone_would(
    city_2017, monkeypatch
):
    """At full size a day's tree is a query over 30 000 branches and their moves: the run's
    two Plan 99 targets share it, and the values stored are those each target computes alone."""
    apply_2025_round(city_2017)
    alone = {
        (target.indicator, day): indicators_compute(target=target, as_of=day)
        for target in (city_2017.board, city_2017.membership)
        for day in (*PLAN_YEARS, TODAY)
    }
    alone_on_todays_map = {
        (target.indicator, day): indicators_compute_on_todays_map(target=target, as_of=day, today=TODAY)[0]
        for target in (city_2017.board, city_2017.membership)
        for day in PLAN_YEARS
    }

    trees_read: list[datetime.date] = []
    todays_read: list[datetime.date] = []

    def counted_tree(day):
        trees_read.append(day)
        return history.tree_and_changes_on(day)

    def counted_todays(today):
        todays_read.append(today)
        return history.todays_tree(today)

    for module in (scoped, indicators):
        monkeypatch.setattr(module, "tree_and_changes_on", counted_tree)
        monkeypatch.setattr(module, "todays_tree", counted_todays)
    indicators_recompute_all(today=TODAY)

    assert trees_read and len(trees_read) == len(set(trees_read)), trees_read
    assert set(PLAN_YEARS) | {TODAY} <= set(trees_read)
    assert todays_read == [TODAY]
    stored = {}
    for indicator, day, on_map, branch_id, numerator, denominator in IndicatorValue.objects.filter(
        target__in=[city_2017.board, city_2017.membership]
    ).values_list("target__indicator", "as_of", "on_map", "branch_id", "numerator", "denominator"):
        stored.setdefault((on_map, indicator, day), {})[branch_id] = (numerator, denominator)
    for (indicator, day), values in alone.items():
        assert stored[(OnMap.IN_FORCE, indicator, day)] == values, (indicator, day)
    for (indicator, day), values in alone_on_todays_map.items():
        assert stored[(OnMap.TODAY, indicator, day)] == values, (indicator, day)
