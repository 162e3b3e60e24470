"""Indicators as data (issue 14): definitions checked against the catalogue of measures,
computed for every branch of a target's subtree in a fixed number of queries, a zero
denominator kept as "no data", and a missing measure shown "not available"."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError

from associations.models import Branch, BranchLevel, OrganizationKind
from khuyenhoc.measures import measure
from plans.catalogue import IndicatorNotAvailable, catalogue_compute, definition_compute, period_of
from plans.indicators import indicators_compute
from plans.models import Indicator, IndicatorDefinition, IndicatorValue, Plan, Target, TargetMilestone
from plans.services import indicators_recompute_all, plan_99_definitions_ensure
from tests.factories import OrganizationFactory, donate, make_branch, org_with_board
from tests.plans.scenario import build_scenario

pytestmark = pytest.mark.django_db
D = datetime.date


def make_plan(branch, **fields) -> Plan:
    values = {
        "code": "7/KH",
        "title": "Kế hoạch thử",
        "issuing_branch": branch,
        "issued_on": D(2021, 1, 1),
        "starts_on": D(2021, 1, 1),
        "ends_on": D(2030, 12, 31),
    }
    values.update(fields)
    return Plan.objects.create(**values)


def catalogue_target(plan, definition, root, milestones=None) -> Target:
    milestones = milestones or {2025: 70, 2030: 80}
    last = max(milestones)
    target = Target.objects.create(
        plan=plan, definition=definition, threshold_percent=milestones[last], deadline=D(last, 12, 31), root_branch=root
    )
    for year, percent in milestones.items():
        TargetMilestone.objects.create(target=target, year=year, percent=percent)
    return target


def board_definition(code="boards-any", **fields) -> IndicatorDefinition:
    values = {
        "code": code,
        "name": "Có ban khuyến học",
        "numerator_measure": "registry.organizations_with_board",
        "denominator_measure": "registry.organizations",
    }
    values.update(fields)
    return IndicatorDefinition.objects.create(**values)


# --- Definitions checked against the catalogue ---------------------------------------------------


def test_a_definition_naming_a_measure_the_catalogue_lacks_is_refused_with_its_code():
    definition = IndicatorDefinition(
        code="x", name="x", numerator_measure="registry.nothing", denominator_measure="registry.organizations"
    )
    with pytest.raises(ValidationError) as error:
        definition.full_clean()
    assert "registry.nothing" in error.value.message_dict["numerator_measure"][0]


def test_a_filter_the_measure_does_not_accept_is_refused_naming_the_filter():
    definition = IndicatorDefinition(
        code="x",
        name="x",
        numerator_measure="registry.organizations",
        numerator_filters={"categories": ["worker"]},
        denominator_measure="registry.organizations",
    )
    with pytest.raises(ValidationError) as error:
        definition.full_clean()
    assert "“categories”" in error.value.message_dict["numerator_filters"][0]


def test_a_filter_value_the_measure_does_not_list_is_refused():
    definition = IndicatorDefinition(
        code="x",
        name="x",
        numerator_measure="registry.organizations",
        numerator_filters={"kinds": ["spaceship"]},
        denominator_measure="registry.organizations",
    )
    with pytest.raises(ValidationError) as error:
        definition.full_clean()
    assert "spaceship" in error.value.message_dict["numerator_filters"][0]


def test_a_percentage_needs_a_denominator_and_a_plain_value_has_none():
    percent = IndicatorDefinition(code="x", name="x", numerator_measure="funds.raised", unit="percent")
    with pytest.raises(ValidationError) as error:
        percent.full_clean()
    assert "denominator_measure" in error.value.message_dict
    IndicatorDefinition(code="y", name="y", numerator_measure="funds.raised", unit="value").full_clean()


def test_plan_99s_two_targets_are_linked_to_their_catalogue_indicators_and_keep_their_code(plan_data):
    board, membership = plan_data.board, plan_data.membership
    assert board.definition.code == "board-coverage" and board.indicator == Indicator.BOARD_COVERAGE
    assert membership.definition.code == "cadre-membership" and membership.indicator == Indicator.CADRE_MEMBERSHIP
    assert board.definition.numerator_measure == "registry.organizations_with_board"
    assert board.definition.denominator_filters == {"kinds": ["agency", "public_service", "armed_forces"]}
    board.definition.full_clean()  # valid against today's catalogue
    membership.definition.full_clean()


# --- The computation -------------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", [D(2017, 12, 31), D(2018, 6, 30), D(2019, 12, 31), D(2020, 3, 1)])
def test_plan_99s_definitions_computed_from_the_catalogue_equal_plan_99s_own_code(as_of):
    branches = build_scenario()
    definitions = plan_99_definitions_ensure()
    for indicator, definition in definitions.items():
        target = Target(indicator=indicator, root_branch=branches.city, **Target.default_scope(indicator))
        expected = indicators_compute(target=target, as_of=as_of)
        got = catalogue_compute(target=Target(definition=definition, root_branch=branches.city), as_of=as_of)
        assert got and all(got[branch_id] == expected[branch_id] for branch_id in got), indicator


def test_every_branch_in_force_gets_a_value_and_a_dissolved_one_none(tree):
    org_with_board(tree.phuc_xa)
    closed = make_branch("Phường Cũ", BranchLevel.COMMUNE, tree.ba_dinh, dissolved_on=D(2019, 1, 1))
    OrganizationFactory(branch=closed, kind=OrganizationKind.AGENCY)
    target = Target(definition=board_definition(), root_branch=tree.city)
    values = catalogue_compute(target=target, as_of=D(2020, 6, 30))
    assert closed.pk not in values
    assert values[tree.truc_bach.pk] == (0, 0)
    assert values[tree.phuc_xa.pk] == (1, 1)
    # The closed commune's organisation still counts in Ba Đình and the city (today's tree holds it).
    assert values[tree.ba_dinh.pk] == (1, 2) and values[tree.city.pk] == (1, 2)
    assert catalogue_compute(target=target, as_of=D(2018, 6, 30))[closed.pk] == (0, 1)


def test_a_period_measure_counts_the_milestone_year_so_far(tree, funds, cast):
    raised = measure("funds.raised")
    assert period_of(raised, D(2025, 12, 31)) == (D(2025, 1, 1), D(2025, 12, 31))
    assert period_of(measure("registry.members"), D(2025, 12, 31)) == (None, D(2025, 12, 31))
    fund = funds.phuc_xa
    donate(cast.admin, fund, 1_000_000, day=D(2024, 6, 1))
    donate(cast.admin, fund, 2_000_000, day=D(2025, 3, 1))
    donate(cast.admin, fund, 4_000_000, day=D(2025, 9, 1))
    definition = IndicatorDefinition.objects.create(
        code="raised", name="Tiền vận động", numerator_measure="funds.raised", unit="value"
    )
    on_june = definition_compute(definition=definition, root=tree.city, as_of=D(2025, 6, 30))
    at_year_end = definition_compute(definition=definition, root=tree.city, as_of=D(2025, 12, 31))
    assert on_june[tree.city.pk] == (2_000_000, None)
    assert at_year_end[tree.city.pk] == (6_000_000, None)


# --- No data, not available ------------------------------------------------------------------------


def test_a_zero_denominator_is_stored_as_no_data_and_shown_so_never_as_0_percent(tree, cast, client_for):
    plan = make_plan(tree.city)
    target = catalogue_target(plan, board_definition(), tree.city)
    indicators_recompute_all(today=D(2025, 6, 30))
    value = IndicatorValue.objects.get(target=target, branch=tree.city, as_of=D(2025, 6, 30))
    assert (value.numerator, value.denominator, value.percent) == (0, 0, None)
    page = client_for(cast.city_leader).get(f"/plans/dashboard/?plan={plan.pk}")  # Vietnamese by default
    assert page.status_code == 200
    card = page.content.decode().split('data-testid="target-boards-any"')[1].split("</article>")[0]
    assert 'data-testid="no-data">Chưa có số liệu<' in card
    assert not re.search(r"(?<![\d,.])0([,.]00)?\s?%", card)  # no 0% anywhere (80% is the target)
    assert "Đã đạt chỉ tiêu" not in card  # nor "target met"


def test_an_indicator_whose_measure_is_not_registered_shows_not_available_never_an_error(tree, cast, client_for):
    plan = make_plan(tree.city)
    definition = board_definition(code="later", numerator_measure="nowhere.not_registered")
    target = catalogue_target(plan, definition, tree.city)
    with pytest.raises(IndicatorNotAvailable):
        catalogue_compute(target=target, as_of=D(2025, 6, 30))
    indicators_recompute_all(today=D(2025, 6, 30))  # no error: the target is skipped
    assert not IndicatorValue.objects.filter(target=target).exists()
    page = client_for(cast.city_leader).get(f"/plans/dashboard/?plan={plan.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Chưa có số đo" in page.content.decode()


# --- Queries constant in tree size -----------------------------------------------------------------


def _grow(parent: Branch, communes: int, prefix: str) -> None:
    for index in range(communes):
        commune = make_branch(f"{prefix} {index}", BranchLevel.COMMUNE, parent)
        org_with_board(commune)
        OrganizationFactory(branch=commune, kind=OrganizationKind.AGENCY)


def test_the_computation_runs_the_same_number_of_queries_whatever_the_tree_size(tree, django_assert_num_queries):
    definition = board_definition(numerator_filters={"kinds": ["agency"]}, denominator_filters={"kinds": ["agency"]})
    target = Target(definition=definition, root_branch=tree.city)
    _grow(tree.ba_dinh, 2, "Xã A")
    # The subtree's branches (no chapter re-hung since: the tree in force that day is
    # today's), the numerator's query, the denominator's query.
    with django_assert_num_queries(3):
        small = catalogue_compute(target=target, as_of=D(2020, 6, 30))
    _grow(tree.ba_dinh, 15, "Xã B")
    _grow(tree.hoan_kiem, 15, "Xã C")
    with django_assert_num_queries(3):
        large = catalogue_compute(target=target, as_of=D(2020, 6, 30))
    assert len(large) > len(small) + 30
    assert large[tree.city.pk] == (32, 64)


def test_the_title_rate_runs_a_fixed_number_of_queries_whatever_the_tree_size(tree, django_assert_num_queries):
    definition = IndicatorDefinition.objects.create(
        code="gdht",
        name="GĐHT",
        numerator_measure="learning.recognised",
        numerator_filters={"title": ["gia-dinh-hoc-tap"]},
        denominator_measure="learning.eligible",
        denominator_filters={"title": ["gia-dinh-hoc-tap"]},
    )
    target = Target(definition=definition, root_branch=tree.city)
    # The branches (1); the titles listed to check the filter, once per measure (2);
    # recognised 2 (the chosen titles' ids, the count); eligible 2 (the titles' ids, the
    # entered totals: no title awarded to units chosen) — learning/measures.py.
    with django_assert_num_queries(7):
        catalogue_compute(target=target, as_of=D(2025, 12, 31))
    _grow(tree.ba_dinh, 12, "Xã D")
    with django_assert_num_queries(7):
        values = catalogue_compute(target=target, as_of=D(2025, 12, 31))
    assert values[tree.city.pk][1] == 0  # no eligible total entered, a household title: no data
