"""The migration that joins the two maps' roots into one dated tree (associations 0008/0009),
tried on the demo database (the small generated city with its accounts).

The database is built, then taken back to the schema before the join (two roots, each node
carrying its map), which is exactly what earlier versions of the portal produced, and then
migrated forward again. Every table keeps its rows (the tree loses only the second root),
and Plan 99's stored values are recomputed identical on the joined tree.
"""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from associations.maps import HANOI_MAPS, hanoi_map_load
from associations.models import Branch, BranchLevel, StaffProfile
from demo.generator import generate_hanoi
from demo.services import DEMO_SCALE, DEMO_SEED, accounts_before_rounds
from plans.models import IndicatorValue
from plans.services import indicators_recompute_all

# serialized_rollback: the seeds of the data migrations (fund models, titles) are back even when an
# earlier transactional test flushed the tables.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BEFORE_JOIN = [("associations", "0007_reorganisation_lineage")]
JULY_2025 = datetime.date(2025, 7, 1)


def _migrate(targets=None) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    return executor


def _row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
        counts.pop("django_migrations", None)  # the migration log itself
        return counts


def _plan_values() -> set[tuple]:
    return set(IndicatorValue.objects.values_list("target_id", "branch_id", "as_of", "numerator", "denominator"))


def _demo_before_the_rounds() -> None:
    """The demo database as the versions before the join made it: both maps, the generated
    sample on the 2017 map and accounts on it (today's `demo_setup` goes on to apply the
    rounds and load Plan 291, which that schema cannot hold). The sample is generated as those
    versions generated it: today's demo also drafts the first round while generating (to keep
    2020's money off the funds it closes), and no version before the join had drafts."""
    for vintage in HANOI_MAPS:
        hanoi_map_load(vintage=vintage)
    generate_hanoi(scale=DEMO_SCALE, seed=DEMO_SEED, rounds=0)
    accounts_before_rounds()


def test_the_demo_database_keeps_every_row_and_plan_99_through_the_join_of_the_two_roots():
    _demo_before_the_rounds()
    indicators_recompute_all(today=datetime.date(2026, 12, 1))
    joined_counts = _row_counts()
    joined_values = _plan_values()
    assert joined_values, "the demo computes Plan 99"
    city = Branch.objects.city_root()
    accounts = dict(StaffProfile.objects.values_list("user_id", "branch_id"))

    try:
        old_apps = _migrate(BEFORE_JOIN).loader.project_state(BEFORE_JOIN[0]).apps
        OldBranch = old_apps.get_model("associations", "Branch")
        roots = list(OldBranch.objects.filter(depth=1).order_by("path").values_list("vintage", "code", "numchild"))
        assert roots == [("2017", "01", 30), ("2025", "01", 126)]
        assert OldBranch.objects.filter(vintage="2025", level=BranchLevel.COMMUNE, depth=2).count() == 126
        split_counts = _row_counts()
        assert split_counts["associations_branch"] == joined_counts["associations_branch"] + 1
    finally:
        _migrate()

    # Forward again: the one root, every table with the rows it had, the tree consistent.
    assert Branch.objects.get_root_nodes().get() == city
    assert Branch.objects.find_problems() == ([], [], [], [], [])
    assert Branch.objects.filter(depth=2, founded_on=JULY_2025, level=BranchLevel.COMMUNE).count() == 126
    assert _row_counts() == joined_counts
    assert {table: count for table, count in split_counts.items() if table != "associations_branch"} == {
        table: count
        for table, count in joined_counts.items()
        if table != "associations_branch" and table in split_counts
    }
    assert dict(StaffProfile.objects.values_list("user_id", "branch_id")) == accounts

    IndicatorValue.objects.all().delete()
    indicators_recompute_all(today=datetime.date(2026, 12, 1))
    assert _plan_values() == joined_values
