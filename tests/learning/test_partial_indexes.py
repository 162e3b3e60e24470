"""The nullable foreign keys of registrations and evaluations are indexed only where set
(learning.models.PARTIAL_INDEXES). A partial index serves a lookup only if the planner can
prove its condition from the query: these tests check, on PostgreSQL, that the lookups the
portal runs by those columns still read their index — a filter by one value or by a list
(Django's PROTECT check when a subject, user or decision is deleted) and the foreign key's own
check, a prepared statement with a parameter planned once for any value. Sequential scans are
switched off so that the empty test tables answer with the plan an index allows, if any."""

import pytest
from django.db import connection, transaction

from learning.models import PARTIAL_INDEXES, Evaluation, Registration

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")

MODELS = {"registration": Registration, "evaluation": Evaluation}
CASES = [(MODELS[table], field, name) for table, indexes in PARTIAL_INDEXES.items() for field, name in indexes.items()]


def _plan(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "field", "index"), CASES, ids=[case[2] for case in CASES])
def test_a_lookup_by_a_nullable_foreign_key_reads_its_partial_index(model, field, index):
    with transaction.atomic():
        one = model.objects.filter(**{field: 1})
        several = model.objects.filter(**{f"{field}__in": [1, 2, 3]})
        for queryset in (one, several):
            sql, params = queryset.query.sql_with_params()
            assert index in _plan(sql, params), str(queryset.query)


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "field", "index"), CASES, ids=[case[2] for case in CASES])
def test_the_foreign_key_check_planned_for_any_value_reads_the_partial_index(model, field, index):
    """What PostgreSQL runs when the referenced row is deleted: `column = $1`, one plan for every value."""
    column = model._meta.get_field(field).column
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(
            f'PREPARE fk_check(bigint) AS SELECT 1 FROM ONLY "{model._meta.db_table}" x '
            f'WHERE "{column}" = $1 FOR KEY SHARE OF x'
        )
        try:
            assert index in _plan("EXECUTE fk_check(1)")
        finally:
            cursor.execute("DEALLOCATE fk_check")


@pytest.mark.django_db
def test_a_partially_indexed_column_has_no_plain_index_beside_it():
    """The migration dropped the indexes that held every NULL: each column has its partial one only."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s)",
            [[model._meta.db_table for model in MODELS.values()]],
        )
        rows = cursor.fetchall()
    for model, field, index in CASES:
        column = model._meta.get_field(field).column
        alone = [
            (name, definition)
            for table, name, definition in rows
            if table == model._meta.db_table and definition.split(" USING btree ")[1].startswith(f"({column})")
        ]
        assert alone == [(index, alone[0][1])], alone
        assert alone[0][1].endswith(f"WHERE ({column} IS NOT NULL)")
