"""Plan 99's identity through the catalogue of measures: its two indicators, rebuilt as ratios
of registry measures rolled up the tree (associations/measures.py says how), give the same
numerator and denominator as plans.indicators.indicators_compute for every branch and every
year-end of the plan — on the small generated city and on the hand-built scenario whose
figures tests/plans/test_indicators.py counts by hand.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from associations.history import paths_on
from associations.maps import hanoi_map_load
from associations.models import Branch
from associations.rollup import roll_up_by_path
from demo.generator import generate_hanoi
from khuyenhoc.measures import measure
from plans.indicators import indicators_compute
from plans.models import Indicator, Target
from plans.services import plan_99_load
from tests.plans.scenario import build_scenario

D = datetime.date
YEAR_ENDS = [D(2017, 12, 31), D(2018, 12, 31), D(2019, 12, 31), D(2020, 12, 31)]

# Plan 99's indicators as (numerator, denominator) measures; filters from the target's scope.
PAIRS = {
    Indicator.BOARD_COVERAGE: ("registry.organizations_with_board", "registry.organizations"),
    Indicator.CADRE_MEMBERSHIP: ("registry.plan_members", "registry.headcount"),
}


def scope_filters(target: Target) -> dict[str, list[str]]:
    if target.indicator == Indicator.BOARD_COVERAGE:
        return {"kinds": target.scope_kinds}
    return {"categories": target.scope_categories, "kinds": target.scope_kinds}


def through_the_catalogue(target: Target, as_of: datetime.date, path_of: dict[int, str]) -> dict:
    """{branch id: (numerator, denominator)} of the target's subtree, from the two measures'
    own figures rolled up by path."""
    root = target.root_branch
    filters = scope_filters(target)
    numerator, denominator = (
        measure(code).compute(root=root, start=None, end=as_of, filters=filters) for code in PAIRS[target.indicator]
    )
    own = {(branch_id,): (figure, 0) for branch_id, figure in numerator.items()}
    for branch_id, figure in denominator.items():
        own[(branch_id,)] = (own.get((branch_id,), (0, 0))[0], figure)
    totals = roll_up_by_path(own, path_of=path_of)
    return {
        branch_id: totals.get((branch_id,), (0, 0)) for branch_id, path in path_of.items() if path.startswith(root.path)
    }


def assert_identical(target: Target, as_of: datetime.date, path_of: dict[int, str]) -> int:
    # The tree in force on the day: indicators_compute shows no branch founded later.
    in_force = paths_on(as_of)
    path_of = {branch_id: path for branch_id, path in path_of.items() if branch_id in in_force}
    expected = indicators_compute(target=target, as_of=as_of)
    got = through_the_catalogue(target, as_of, path_of)
    assert set(got) == set(expected)
    differing = {branch_id: (got[branch_id], value) for branch_id, value in expected.items() if got[branch_id] != value}
    assert not differing, (target.indicator, as_of, list(differing.items())[:5])
    return sum(denominator for _numerator, denominator in expected.values())


# --- The hand-built scenario (fast) ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_scenarios_two_indicators_come_out_the_same_through_the_catalogue():
    branches = build_scenario()
    root = branches.city
    path_of = dict(Branch.objects.order_by().values_list("id", "path"))
    targets = [
        Target(indicator=Indicator.BOARD_COVERAGE, root_branch=root, **Target.default_scope(Indicator.BOARD_COVERAGE)),
        Target(
            indicator=Indicator.CADRE_MEMBERSHIP, root_branch=root, **Target.default_scope(Indicator.CADRE_MEMBERSHIP)
        ),
        Target(indicator=Indicator.CADRE_MEMBERSHIP, root_branch=root, member_categories=["civil_servant"]),
        Target(
            indicator=Indicator.CADRE_MEMBERSHIP,
            root_branch=root,
            member_categories=["civil_servant", "worker"],
            organization_kinds=["agency"],
        ),
        Target(indicator=Indicator.BOARD_COVERAGE, root_branch=branches.ba_dinh, organization_kinds=["agency"]),
    ]
    # The scenario's dates of change: boards founded, dissolved, organisations opening and closing.
    dates = [*YEAR_ENDS, D(2018, 1, 1), D(2018, 6, 30), D(2019, 6, 30), D(2019, 12, 30), D(2020, 3, 1)]
    for target in targets:
        for as_of in dates:
            assert_identical(target, as_of, path_of)


# --- The small generated city (slow: one generation for the module) -------------------------------


@pytest.fixture(scope="module")
def hanoi(django_db_setup, django_db_blocker):
    """One generation for the module, inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        hanoi_map_load(vintage="2017")
        # The 2017 map without the rounds: the catalogue's measures count each record where it
        # is now, so only plans/indicators.py counts days before a reorganisation on the map
        # then (tests/plans/test_history.py); the identity is the undated city's.
        generate_hanoi(scale="small", seed=7, rounds=0)
        yield Branch.objects.city_root()
        transaction.set_rollback(True)


@pytest.mark.slow
def test_plan_99_comes_out_the_same_through_the_catalogue_on_the_small_generated_city(hanoi, db):
    plan = plan_99_load()
    targets = list(plan.targets.all())
    assert {target.indicator for target in targets} == set(PAIRS)
    path_of = dict(Branch.objects.order_by().values_list("id", "path"))
    for target in targets:
        denominators = [assert_identical(target, as_of, path_of) for as_of in YEAR_ENDS]
        assert all(denominators), target.indicator  # the generated city has figures to compare
