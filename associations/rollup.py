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
from khuyenhoc.bulk import upsert_unnest

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
        # One statement per 50 000 rows, no model instance built (the first run of a big
        # city writes hundreds of thousands).
        upsert_unnest(
            model,
            unique=keys,
            columns=[*keys, *values],
            arrays=[[key[at] for key, _figures in changed] for at in range(len(keys))]
            + [[figures[at] for _key, figures in changed] for at in range(len(values))],
            update=values,
            touch=touch,
        )
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
