"""Figures stored per branch for its whole subtree: the roll-up by path prefix, and the
upsert that makes a table of stored figures equal what was computed.

The upper apps count their rows once per owning branch with a GROUP BY, hand the counts to
`roll_up_by_path`, which adds each branch's own figures to itself and every ancestor in
Python (one query for the tree's paths, none per branch), and store the result with
`figures_store`. Used by plans (indicator panels) and learning (title figures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import connection

from associations.models import Branch

Figures = dict[tuple, tuple[int, ...]]


def branch_paths() -> dict[int, str]:
    """{branch id: path} of every branch: one query, the tree not a data table."""
    return dict(Branch.objects.order_by().values_list("id", "path"))


def roll_up_by_path(own: Mapping[tuple, Sequence[int]], *, path_of: Mapping[int, str] | None = None) -> Figures:
    """{(branch id, *key): figures} of each branch's own rows → the same for each branch's
    whole subtree (its own rows plus every branch below it), every root at once.

    The figures are tuples of any width, added position by position. A key whose figures
    are all zero is left out. `path_of` ({branch id: path}) is read when not given."""
    steplen = Branch.steplen
    if path_of is None:
        path_of = branch_paths()
    id_of = {path: branch_id for branch_id, path in path_of.items()}
    totals: dict[tuple, list[int]] = {}
    for (branch_id, *key), figures in own.items():
        path = path_of.get(branch_id)
        if path is None:  # pragma: no cover - a foreign key always points at a branch
            continue
        for end in range(steplen, len(path) + 1, steplen):
            total = totals.setdefault((id_of[path[:end]], *key), [0] * len(figures))
            for position, value in enumerate(figures):
                total[position] += value
    return {key: tuple(total) for key, total in totals.items() if any(total)}


def figures_store(
    model,
    *,
    keys: list[str],
    values: list[str],
    totals: Figures,
    scope: Mapping[str, object] | None = None,
    touch: Sequence[str] = (),
) -> int:
    """Make `model`'s rows (those matching `scope`, a filter) equal `totals`: upsert, on the
    unique key, the rows that differ from what is stored and delete the keys no longer
    there. A change moves a handful of rows; the first run writes them all. `touch` names
    fields with a database default (e.g. computed_at) refreshed on the rows written.
    Answers the number of rows written or deleted. Call it inside a transaction."""
    rows = model.objects.order_by().filter(**(scope or {}))
    stored = {
        tuple(row[1 : 1 + len(keys)]): (row[0], tuple(row[1 + len(keys) :]))
        for row in rows.values_list("pk", *keys, *values)
    }
    stale = [pk for key, (pk, _figures) in stored.items() if key not in totals]
    changed = [
        (key, tuple(figures))
        for key, figures in totals.items()
        if key not in stored or stored[key][1] != tuple(figures)
    ]
    for start in range(0, len(stale), 10_000):
        model.objects.filter(pk__in=stale[start : start + 10_000]).delete()
    if connection.vendor == "postgresql":
        _upsert_postgresql(model, keys=keys, values=values, rows=changed, touch=touch)
    else:
        model.objects.bulk_create(
            [
                model(**dict(zip(keys, key, strict=True)), **dict(zip(values, figures, strict=True)))
                for key, figures in changed
            ],
            batch_size=1000,
            update_conflicts=True,
            unique_fields=keys,
            update_fields=[*values, *touch],
        )
    return len(changed) + len(stale)


_UPSERT_PAGE = 50_000


def _upsert_postgresql(
    model, *, keys: list[str], values: list[str], rows: list[tuple[tuple, tuple]], touch: Sequence[str]
) -> None:
    """PostgreSQL: the upsert of `figures_store` as INSERT … SELECT FROM unnest(one array per
    column) ON CONFLICT, 50 000 rows a statement (the same rows bulk_create would write,
    without building a model instance and a parameter per value: the first run of a big
    city writes hundreds of thousands). The `touch` fields take their database default."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in (*keys, *values)]
    quote = connection.ops.quote_name
    columns = [quote(field.column) for field in fields]
    key_columns = columns[: len(keys)]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    updates = [
        *(f"{column} = EXCLUDED.{column}" for column in columns[len(keys) :]),
        *(f"{quote(model._meta.get_field(name).column)} = DEFAULT" for name in touch),
    ]
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 — a model's table and columns
        f"SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {', '.join(updates)}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _UPSERT_PAGE):
            page = rows[start : start + _UPSERT_PAGE]
            width = len(keys)
            cursor.execute(
                sql,
                [[key[position] for key, _figures in page] for position in range(width)]
                + [[figures[position] for _key, figures in page] for position in range(len(values))],
            )
