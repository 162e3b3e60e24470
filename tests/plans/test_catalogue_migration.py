"""Migration 0004 turns Plan 99's two targets into catalogue indicators: existing targets are
linked to the two definitions and keep their `indicator` (plans.indicators still computes them)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BEFORE = [("plans", "0004_indicator_definitions_plan_versions")]
AFTER = [("plans", "0005_plan_99_catalogue_indicators")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets[0]).apps


def test_the_data_migration_links_plan_99s_existing_targets_to_two_catalogue_indicators(tree):
    try:
        apps = _migrate(BEFORE)
        Plan, Target = apps.get_model("plans", "Plan"), apps.get_model("plans", "Target")
        IndicatorDefinition = apps.get_model("plans", "IndicatorDefinition")
        IndicatorDefinition.objects.all().delete()
        day = datetime.date(2020, 12, 31)
        plan = Plan.objects.create(
            code="99/KH-KHHN", title="t", issuing_branch_id=tree.city.pk, issued_on=day, starts_on=day, ends_on=day
        )
        for indicator in ("board_coverage", "cadre_membership"):
            Target.objects.create(
                plan=plan, indicator=indicator, threshold_percent=60, deadline=day, root_branch_id=tree.city.pk
            )
        apps = _migrate(AFTER)
        Target = apps.get_model("plans", "Target")
        linked = dict(Target.objects.values_list("indicator", "definition__code"))
        assert linked == {"board_coverage": "board-coverage", "cadre_membership": "cadre-membership"}
        board = apps.get_model("plans", "IndicatorDefinition").objects.get(code="board-coverage")
        assert (board.numerator_measure, board.denominator_measure) == (
            "registry.organizations_with_board",
            "registry.organizations",
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
