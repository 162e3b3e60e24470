"""Stored monthly totals of money records (donations, award turns), never stale.

A list's totals line ("1 104 233 donations, 812 billion đồng") summed the records of the
whole visible subtree on every request: 1.4 s for the city's 1.1 million donations, 50 s
for its 3.5 million award turns. The same figures are kept here as rows of a `MonthTotal`
model: for every branch, every month and every value of a few dimensions (fund model,
donor kind, method; recipient kind, category), the count and amount of the records of the
branch's SUBTREE (the branch and everything below it), valid and voided apart.

- Writes: the services that record or void records call `totals_add` / `totals_void` in the
  same transaction (one upsert statement per batch, whatever its size), so the next request
  sees the write. An import wraps its writes in `totals_deferred`: its deltas are summed in
  memory and upserted once at the end of its transaction. The reorganisation apply (which
  re-hangs subtrees and moves rounds) moves only the rows concerned with
  `totals_move_subtrees` / `totals_move_holders`, one statement each. Bulk loads (the
  generator) and `money_totals --rebuild` call `totals_rebuild`, a few INSERT … SELECT.
- Reads: `stored_sums` answers a branch's subtree (or everything) between two dates, with
  the dimensions as filters: whole months from the stored rows (a few hundred rows for the
  city), the edge days of a partial month counted live from the records by the date index.
  Any other filter (a fund, a round, a text search, a branch's own records) is not answered
  here: the caller counts live.
- `totals_check` compares the stored rows with a recount; `manage.py money_totals` runs it
  or rebuilds.

Each kind of record is described once by a `TotalsSpec`, registered with `totals_register`
(donations here, award turns by scholarships in its AppConfig.ready()).
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.db import connection, models
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth

from associations.access import subtree_path, user_root_branch
from funds.visibility import history_outside, visible_branch_ids
from khuyenhoc.bulk import upsert_unnest

# The memory of the sorts of a rebuild's one statement (PostgreSQL).
REBUILD_WORK_MEM = "256MB"
STEPLEN = 4  # treebeard's step length of associations.Branch paths
MEASURES = ("count", "amount", "voided_count", "voided_amount")


@dataclass(frozen=True)
class TotalsSpec:
    """How one kind of money record is summed.

    `dimensions` maps a column of the total model to the record's lookup (the list filters
    the totals can answer); `key_of(record)` returns (branch, dimension values in the same
    order) of a saved record whose related objects are loaded.
    """

    name: str
    record_label: str
    total_label: str
    date_field: str
    branch_lookup: str  # from the record to its Branch, e.g. "fund__branch"
    dimensions: tuple[tuple[str, str], ...]
    key_of: Callable

    def record_model(self, apps=global_apps):
        return apps.get_model(self.record_label)

    def total_model(self, apps=global_apps):
        return apps.get_model(self.total_label)

    @property
    def columns(self) -> list[str]:
        return [column for column, _lookup in self.dimensions]


SPECS: dict[str, TotalsSpec] = {}


def totals_register(spec: TotalsSpec) -> None:
    SPECS[spec.name] = spec


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


# --- writes -----------------------------------------------------------------------------------


def _ancestor_ids(branches: Iterable) -> dict[int, list[int]]:
    """branch id → the ids of the branch and its ancestors (one query)."""
    branches = {branch.pk: branch for branch in branches}
    prefixes = {branch.path[: level * STEPLEN] for branch in branches.values() for level in range(1, branch.depth + 1)}
    Branch = global_apps.get_model("associations", "Branch")
    ids = dict(Branch.objects.filter(path__in=prefixes).values_list("path", "pk")) if prefixes else {}
    return {
        pk: [ids[branch.path[: level * STEPLEN]] for level in range(1, branch.depth + 1)]
        for pk, branch in branches.items()
    }


def _upsert(spec: TotalsSpec, deltas: dict[tuple, list[int]]) -> None:
    """Add `deltas` ((branch id, month, *dimensions) → four measures) to the stored rows, in
    key order (two writers lock shared rows in the same order, so they queue rather than
    deadlock): on PostgreSQL one INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE
    per 50 000 rows (an import of 100 000 donations across a city moves some hundred
    thousand), elsewhere one INSERT … VALUES … ON CONFLICT per 2 000 rows."""
    rows = [(*key, *values) for key, values in sorted(deltas.items()) if any(values)]
    if not rows:
        return
    model = spec.total_model()
    if connection.vendor == "postgresql":  # one array per column: no parameter per value
        fields = ["branch", "month", *spec.columns, *MEASURES]
        upsert_unnest(
            model,
            unique=fields[: -len(MEASURES)],
            columns=fields,
            arrays=[[row[at] for row in rows] for at in range(len(fields))],
            add=MEASURES,
        )
        return
    table = connection.ops.quote_name(model._meta.db_table)
    keys = ["branch_id", "month", *[model._meta.get_field(column).column for column in spec.columns]]
    names = [*keys, *MEASURES]
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)
    qn = connection.ops.quote_name
    updates = ", ".join(f"{qn(m)} = {table}.{qn(m)} + excluded.{qn(m)}" for m in MEASURES)
    conflict = ", ".join(connection.ops.quote_name(name) for name in keys)
    marks = "(" + ", ".join(["%s"] * len(names)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 2000):
            chunk = rows[start : start + 2000]
            cursor.execute(
                f"INSERT INTO {table} ({quoted}) VALUES {', '.join([marks] * len(chunk))} "  # noqa: S608 — a model's table and columns
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
                [value for row in chunk for value in row],
            )


def _deltas(spec: TotalsSpec, records: list, measure: Callable) -> dict[tuple, list[int]]:
    keyed = [(record, *spec.key_of(record)) for record in records]
    ancestors = _ancestor_ids(branch for _record, branch, _dims in keyed)
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for record, branch, dims in keyed:
        month = month_of(getattr(record, spec.date_field))
        change = measure(record)
        for branch_id in ancestors[branch.pk]:
            row = deltas[(branch_id, month, *dims)]
            for i, value in enumerate(change):
                row[i] += value
    return deltas


def totals_add(spec: TotalsSpec, records: list) -> None:
    """New valid records, just saved: counted in their branches' and ancestors' rows (at
    the end of the `totals_deferred` block when one is open)."""
    if records:
        _write(spec, records, lambda record: (1, record.amount, 0, 0))


def totals_void(spec: TotalsSpec, records: list) -> None:
    """Records just voided: moved from the valid to the voided measures."""
    if records:
        _write(spec, records, lambda record: (-1, -record.amount, 1, record.amount))


def _write(spec: TotalsSpec, records: list, measure: Callable) -> None:
    pending = _DEFERRED.get()
    if pending is None:
        _upsert(spec, _deltas(spec, records, measure))
        return
    # Deferred: summed per own branch (no query), rolled up to the ancestors at the end.
    branches, own = pending
    sums = own[spec.name]
    for record in records:
        branch, dims = spec.key_of(record)
        branches[branch.pk] = branch
        row = sums[(branch.pk, month_of(getattr(record, spec.date_field)), *dims)]
        for i, value in enumerate(measure(record)):
            row[i] += value


# (branch id → branch, spec name → (own branch id, month, *dimensions) → four measures)
_DEFERRED: ContextVar[tuple[dict, dict] | None] = ContextVar("money_totals_deferred", default=None)


@contextmanager
def totals_deferred():
    """Inside the block, `totals_add` / `totals_void` only sum their deltas in memory (per
    own branch, month and dimensions); leaving it normally writes them all: one query for
    the ancestors, then one upsert per 2 000 stored rows and kind of record, whatever the
    number of writes inside. Leaving it by an exception drops them (the caller's
    transaction rolls back with the records). Use it inside the transaction of a long
    batch of writes (an import): the city's rows are then locked only at its end, not for
    the whole import. Nested blocks join the outer one."""
    if _DEFERRED.get() is not None:
        yield
        return
    branches: dict[int, object] = {}
    own: dict[str, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    token = _DEFERRED.set((branches, own))
    try:
        yield
    finally:
        _DEFERRED.reset(token)
    if not any(own.values()):
        return
    ancestors = _ancestor_ids(branches.values())
    for name, sums in own.items():
        deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for (branch_id, *rest), values in sums.items():
            for ancestor in ancestors[branch_id]:
                row = deltas[(ancestor, *rest)]
                for i, value in enumerate(values):
                    row[i] += value
        _upsert(SPECS[name], deltas)


# --- rebuild and check ----------------------------------------------------------------------


def _month_sums(valid: Q) -> dict:
    """The four sums a row of totals holds, over the records `valid` selects and the rest."""
    return {
        "t_count": Count("pk", filter=valid),
        "t_amount": Coalesce(Sum("amount", filter=valid), 0),
        "t_voided_count": Count("pk", filter=~valid),
        "t_voided_amount": Coalesce(Sum("amount", filter=~valid), 0),
    }


def _expected_sql(spec: TotalsSpec, apps=global_apps, levels: tuple[str, ...] | None = None) -> tuple[str | None, list]:
    """One SELECT of every row the total model should hold: the records grouped per own
    branch, month and dimensions (one pass over the records), then rolled up to every
    ancestor by the prefixes of the branch's path, one UNION arm per tree level.

    With `levels`, only the rows of the branches at those levels (see `totals_rebuild_levels`):
    their own records, and the stored rows of the branches of other levels right below them,
    counted as their parent's own, rolled up the same way."""
    Record = spec.record_model(apps)
    Branch = apps.get_model("associations", "Branch")
    valid = Q(voided_at__isnull=True)
    records = Record.objects.order_by()
    if levels is not None:
        records = records.filter(**{f"{spec.branch_lookup}__level__in": list(levels)})
    own = (
        records.annotate(
            t_path=F(f"{spec.branch_lookup}__path"),
            t_month=TruncMonth(spec.date_field),
            **{f"t_{column}": F(lookup) for column, lookup in spec.dimensions},
        )
        .values("t_path", "t_month", *[f"t_{column}" for column in spec.columns])
        .annotate(**_month_sums(valid))
    )
    own_sql, own_params = own.query.sql_with_params()
    own_params = list(own_params)
    branches = Branch.objects.filter(level__in=list(levels)) if levels is not None else Branch.objects
    depth = branches.aggregate(depth=models.Max("depth"))["depth"] or 0
    qn = connection.ops.quote_name
    branch_table = qn(Branch._meta.db_table)
    if levels is not None:
        # The rows of the branches of other levels right below those levels, as their parent's own.
        names = ["t_path", "t_month", *[f"t_{column}" for column in spec.columns], *[f"t_{m}" for m in MEASURES]]
        model = spec.total_model(apps)
        stored = [model._meta.get_field(column).column for column in spec.columns]
        marks = ", ".join(["%s"] * len(levels))
        parent_path = f"SUBSTR(b.{qn('path')}, 1, LENGTH(b.{qn('path')}) - {STEPLEN})"
        own_sql = (
            f"SELECT {', '.join(qn(n) for n in names)} FROM ({own_sql}) o UNION ALL "  # noqa: S608 — tables and columns of models
            f"SELECT {parent_path}, t.{qn('month')}{''.join(f', t.{qn(c)}' for c in stored)}"
            f"{''.join(f', t.{qn(m)}' for m in MEASURES)} "
            f"FROM {qn(model._meta.db_table)} t JOIN {branch_table} b ON b.id = t.{qn('branch_id')} "
            f"JOIN {branch_table} p ON p.{qn('path')} = {parent_path} "
            f"WHERE b.{qn('level')} NOT IN ({marks}) AND p.{qn('level')} IN ({marks})"
        )
        own_params += [*levels, *levels]
    dims = "".join(f", own.{qn('t_' + column)}" for column in spec.columns)
    measures = ", ".join(f"own.{qn('t_' + m)}" for m in MEASURES)
    arms = " UNION ALL ".join(
        f"SELECT SUBSTR(own.{qn('t_path')}, 1, {level * STEPLEN}) AS prefix, own.{qn('t_month')}{dims}, {measures} "  # noqa: S608
        f"FROM own WHERE LENGTH(own.{qn('t_path')}) >= {level * STEPLEN}"
        for level in range(1, depth + 1)
    )
    group = ", ".join(["b.id", f"up.{qn('t_month')}", *[f"up.{qn('t_' + column)}" for column in spec.columns]])
    sums = ", ".join(f"SUM(up.{qn('t_' + m)})" for m in MEASURES)
    if not arms:  # no branch at all
        return None, []
    sql = (
        f"WITH own AS ({own_sql}) "  # noqa: S608 — tables and columns of models, values as parameters
        f"SELECT {group}, {sums} FROM ({arms}) up JOIN {branch_table} b ON b.path = up.prefix GROUP BY {group}"
    )
    return sql, own_params


def _total_columns(spec: TotalsSpec, apps=global_apps) -> list[str]:
    model = spec.total_model(apps)
    return ["branch_id", "month", *[model._meta.get_field(c).column for c in spec.columns], *MEASURES]


def totals_rebuild(spec: TotalsSpec, apps=global_apps) -> int:
    """Recompute every stored row of `spec` from the records (bulk loads, the reorganisation
    apply, the migration that adds the table): two statements. Returns the rows written."""
    model = spec.total_model(apps)
    table = connection.ops.quote_name(model._meta.db_table)
    select, params = _expected_sql(spec, apps)
    columns = ", ".join(connection.ops.quote_name(c) for c in _total_columns(spec, apps))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 — a model's table
        if select is None:
            return 0
        with _rebuild_work_mem(cursor):
            # SQLite takes the WITH after INSERT … (columns) only inside the SELECT: wrap it.
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM ({select}) expected", params)  # noqa: S608
            return cursor.rowcount


@contextmanager
def _rebuild_work_mem(cursor):
    """On PostgreSQL, REBUILD_WORK_MEM for the statements inside (a rebuild groups millions
    of records and sorts the rolled-up rows: in memory rather than on disk), the session's
    own value again after them."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", [REBUILD_WORK_MEM])
    (work_mem, _) = cursor.fetchone()
    try:
        yield
    finally:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])


def totals_rebuild_all(apps=global_apps) -> dict[str, int]:
    return {name: totals_rebuild(spec, apps) for name, spec in SPECS.items()}


def totals_rebuild_levels(spec: TotalsSpec, *, levels: tuple[str, ...]) -> int:
    """Recompute the stored rows of the branches at `levels` only (the administrative units),
    from their own records and the stored rows of the branches of other levels right below
    them, which stay as they are: two statements. Exact after a change that re-hangs
    subtrees of other levels from one branch of `levels` to another, and moves records only
    between branches of `levels` (the reorganisation apply), on a tree where no branch of
    `levels` lies below one of another level. Returns the rows written.

    The third round of Hanoi re-hangs nearly every chapter: a full rebuild groups every
    record and writes every row again (1.1 M donations, 1.2 M rows); this reads the records
    of the administrative units and the chapters' rows, and writes the units' half."""
    model = spec.total_model()
    table = connection.ops.quote_name(model._meta.db_table)
    Branch = global_apps.get_model("associations", "Branch")
    select, params = _expected_sql(spec, levels=levels)
    columns = ", ".join(connection.ops.quote_name(c) for c in _total_columns(spec))
    marks = ", ".join(["%s"] * len(levels))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE branch_id IN "  # noqa: S608 — a model's table
            f"(SELECT id FROM {connection.ops.quote_name(Branch._meta.db_table)} WHERE level IN ({marks}))",
            list(levels),
        )
        if select is None:
            return 0
        with _rebuild_work_mem(cursor):  # some 2 million rows rolled up at full size
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM ({select}) expected", params)  # noqa: S608
            return cursor.rowcount


def totals_check(spec: TotalsSpec, *, limit: int = 20) -> list[tuple]:
    """The rows where stored and recounted totals differ (empty when they agree): the rows
    of each side missing from the other. Rows that sum to nothing count as absent."""
    model = spec.total_model()
    table = connection.ops.quote_name(model._meta.db_table)
    select, params = _expected_sql(spec)
    columns = ", ".join(connection.ops.quote_name(c) for c in _total_columns(spec))
    nonzero = " OR ".join(f"{connection.ops.quote_name(m)} <> 0" for m in MEASURES)
    stored = f"SELECT {columns} FROM {table} WHERE {nonzero}"  # noqa: S608 — a model's table and columns
    if select is None:
        select = f"{stored} AND 1 = 0"
    expected = f"SELECT * FROM ({select}) e"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 'stored', d.* FROM ({stored} EXCEPT {expected}) d "  # noqa: S608
            f"UNION ALL SELECT 'recounted', d.* FROM ({expected} EXCEPT {stored}) d LIMIT {int(limit)}",
            params + params,
        )
        return cursor.fetchall()


# --- reads ----------------------------------------------------------------------------------


def whole_months(start: datetime.date | None, end: datetime.date | None):
    """(first whole month, last whole month, live day ranges) of the period [start, end]
    (a bound left open is no bound): the stored rows answer the whole months, the ranges
    (at most two, the partial months at either end) are counted live. `first > last` when
    no whole month lies inside; the whole period is then one live range."""
    first = start if start is None or start.day == 1 else month_end(start) + datetime.timedelta(days=1)
    if end is None or end == month_end(end):
        last = None if end is None else month_of(end)
    else:
        last = month_of(month_of(end) - datetime.timedelta(days=1))
    if first is not None and last is not None and first > last:
        return first, last, [(start, end)]
    live = []
    if start is not None and first != start:
        live.append((start, first - datetime.timedelta(days=1)))
    if end is not None and month_end(last) != end:
        live.append((month_end(last) + datetime.timedelta(days=1), end))
    return first, last, live


def stored_sums(
    spec: TotalsSpec,
    *,
    records: models.QuerySet,
    branch=None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    state: str = "valid",
    dimensions: dict | None = None,
    live_also: Q | None = None,
) -> dict:
    """{"count", "amount"} of the records of `branch`'s subtree (every branch when None)
    between `start` and `end`, in the void state asked for, with the dimension filters
    (column → value): two queries whatever the data's size.

    `records` is the record queryset the live part starts from, already narrowed to the
    subtree and the dimension filters (the caller's list queryset); only its edge days are
    counted, and those matching `live_also` (records outside the subtree) in full."""
    dimensions = {column: value for column, value in (dimensions or {}).items() if value not in (None, "")}
    first, last, live = whole_months(start, end)
    stored = spec.total_model().objects.filter(**dimensions)
    stored = stored.filter(branch=branch) if branch is not None else stored.filter(branch__depth=1)
    if first is not None and last is not None and first > last:
        stored = stored.none()
    if first is not None:
        stored = stored.filter(month__gte=first)
    if last is not None:
        stored = stored.filter(month__lte=last)
    fields = {"valid": ("count", "amount"), "voided": ("voided_count", "voided_amount")}.get(state)
    if fields is None:  # all records
        sums = stored.aggregate(
            count=Coalesce(Sum(F("count") + F("voided_count")), 0),
            amount=Coalesce(Sum(F("amount") + F("voided_amount")), 0),
        )
    else:
        sums = stored.aggregate(count=Coalesce(Sum(fields[0]), 0), amount=Coalesce(Sum(fields[1]), 0))
    result = {"count": sums["count"], "amount": sums["amount"]}
    if live or live_also is not None:
        days = Q()
        for low, high in live:
            days |= Q(**{f"{spec.date_field}__gte": low, f"{spec.date_field}__lte": high})
        if live_also is not None:
            days = (days & ~live_also) | live_also if live else live_also
        extra = records.filter(days).aggregate(count=Count("pk"), amount=Coalesce(Sum("amount"), 0))
        result["count"] += extra["count"]
        result["amount"] += extra["amount"]
    return result


def latest_month(spec: TotalsSpec, *, branch, state: str = "valid") -> datetime.date | None:
    """The latest month with a (valid) record in `branch`'s subtree: one query on the stored rows."""
    stored = spec.total_model().objects.filter(branch=branch)
    stored = stored.filter(count__gt=0) if state == "valid" else stored
    return stored.aggregate(month=models.Max("month"))["month"]


# --- donations --------------------------------------------------------------------------------

DONATIONS = TotalsSpec(
    name="donations",
    record_label="funds.Donation",
    total_label="funds.DonationMonthTotal",
    date_field="received_on",
    branch_lookup="fund__branch",
    dimensions=(("fund_model_id", "fund__fund_model_id"), ("donor_kind", "donor_kind"), ("method", "method")),
    key_of=lambda donation: (
        donation.fund.branch,
        (donation.fund.fund_model_id, donation.donor_kind, donation.method),
    ),
)
totals_register(DONATIONS)


def list_sums(spec: TotalsSpec, *, user, records: models.QuerySet, data: dict, dimensions: dict) -> dict | None:
    """The totals line of a list of valid records ({"count", "amount"}), or None when the
    filters ask something the stored rows cannot answer (a fund, a round, a text search, a
    branch's own records): the caller then counts live.

    `records` is the list's queryset (visible to `user`, filtered by `data`, the filter
    form's cleaned data); `dimensions` the dimension filters among `data`. The scope is a
    subtree: the branch filtered on, else the user's own subtree; the records the user sees
    outside it (the history of a reorganised subtree, `visible_to`) are counted live. At
    most three queries, whatever the data's size."""
    path = subtree_path(user)
    if path is None or data.get("state") == "voided":
        return {"count": 0, "amount": 0}
    branches = global_apps.get_model("associations", "Branch").objects.order_by()
    branch = data.get("branch")
    live_also = None
    if branch is not None:
        if not branch.path.startswith(path):
            return None  # a branch of the history outside the user's subtree: counted live
    elif path != "":
        branch = user_root_branch(user)
        if history_outside(user):
            ids = visible_branch_ids(user)
            if ids is None:
                inside = branches.filter(path__startswith=path).values("pk")
                live_also = ~Q(**{f"{spec.branch_lookup}__in": inside})
            else:
                live_also = Q(**{f"{spec.branch_lookup}__in": ids[1]})
    return stored_sums(
        spec,
        records=records.valid(),
        branch=branch,
        start=data.get("start"),
        end=data.get("end"),
        dimensions=dimensions,
        live_also=live_also,
    )


# --- a branch moved (associations.services.branch_move) ---------------------------------------


def totals_move_subtree(spec: TotalsSpec, *, branch_id: int, old_parent_id: int | None, new_parent_id: int) -> None:
    """A subtree moved under another parent: its stored rows (its own subtree's sums, which
    the move does not change) leave the old parent and its ancestors and join the new parent
    and its ancestors; the common ancestors keep theirs. Three queries."""
    Branch = global_apps.get_model("associations", "Branch")
    parents = {node.pk: node for node in Branch.objects.filter(pk__in={old_parent_id, new_parent_id} - {None})}
    lines = {
        pk: set(_ancestor_ids([parents[pk]])[pk]) if pk in parents else set() for pk in (old_parent_id, new_parent_id)
    }
    leaving, joining = lines[old_parent_id] - lines[new_parent_id], lines[new_parent_id] - lines[old_parent_id]
    if not leaving and not joining:
        return
    model = spec.total_model()
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in model.objects.filter(branch_id=branch_id).values("month", *spec.columns, *MEASURES):
        dims = tuple(row[column] for column in spec.columns)
        for ancestor, sign in [*((pk, -1) for pk in leaving), *((pk, 1) for pk in joining)]:
            delta = deltas[(ancestor, row["month"], *dims)]
            for i, measure in enumerate(MEASURES):
                delta[i] += sign * row[measure]
    _upsert(spec, deltas)


def branch_moved_receiver(sender, *, branch_id, old_parent_id, new_parent_id, **kwargs) -> None:
    for spec in SPECS.values():
        totals_move_subtree(spec, branch_id=branch_id, old_parent_id=old_parent_id, new_parent_id=new_parent_id)


# --- many records moved at once (the reorganisation apply) ------------------------------------
#
# Both functions take `moves`, a queryset of rows `.values(m_key=…, m_from=…, m_to=…)`: the
# id of what moved and the ids of the branch it left and the branch it joined. They sum what
# moved per (left, joined) pair, month and dimensions, subtract it from the left branch's
# line of ancestors and add it to the joined branch's, the common ancestors cancelling, and
# upsert the differences: one statement whatever the number of moves, on PostgreSQL and
# SQLite alike. Both read the tree as it is now (after the move).


def tree_depth() -> int:
    """The deepest level of the branch tree (one query): the arms of the roll-up below."""
    Branch = global_apps.get_model("associations", "Branch")
    return Branch.objects.aggregate(depth=models.Max("depth"))["depth"] or 0


def totals_move_subtrees(spec: TotalsSpec, *, moves: models.QuerySet, depth: int | None = None) -> None:
    """Subtrees re-hung: `moves` = (top branch, old parent, new parent). A top's stored rows
    (its subtree's sums, which a re-hang does not change) leave the old parent's line and
    join the new parent's. Read the tops' rows BEFORE anything else changed them: call it
    before `totals_move_holders` of the same operation. One statement (two without `depth`)."""
    model = spec.total_model()
    qn = connection.ops.quote_name
    moves_sql, moves_params = moves.order_by().query.sql_with_params()
    dims = [qn(model._meta.get_field(column).column) for column in spec.columns]
    select = ", ".join(
        [
            f"mv.{qn('m_from')} AS p_from",
            f"mv.{qn('m_to')} AS p_to",
            f"s.{qn('month')} AS p_month",
            *[f"s.{dim} AS p_{i}" for i, dim in enumerate(dims)],
            *[f"SUM(s.{qn(m)}) AS p_{m}" for m in MEASURES],
        ]
    )
    group = ", ".join([f"mv.{qn('m_from')}", f"mv.{qn('m_to')}", f"s.{qn('month')}", *[f"s.{d}" for d in dims]])
    pair_sums = (
        f"SELECT {select} FROM ({moves_sql}) mv "  # noqa: S608 — a model's table and columns
        f"JOIN {qn(model._meta.db_table)} s ON s.{qn('branch_id')} = mv.{qn('m_key')} GROUP BY {group}"
    )
    _upsert_pair_sums(spec, pair_sums, list(moves_params), depth)


def totals_move_holders(spec: TotalsSpec, *, moves: models.QuerySet, depth: int | None = None) -> None:
    """Holders moved to another branch: `moves` = (holder, old branch, new branch), the holder
    being the object a record takes its branch from (`spec.branch_lookup`'s first step: the
    fund of a donation, the round of an award). Their records, counted from the records by
    the holder's index, leave the old branch's line and join the new one's. One statement
    (two without `depth`)."""
    Record = spec.record_model()
    holder = spec.branch_lookup.split("__")[0]
    valid = Q(voided_at__isnull=True)
    own = (
        Record.objects.order_by()
        .filter(**{f"{holder}__in": moves.order_by().values("m_key")})
        .annotate(
            t_holder=F(holder),
            t_month=TruncMonth(spec.date_field),
            **{f"t_{column}": F(lookup) for column, lookup in spec.dimensions},
        )
        .values("t_holder", "t_month", *[f"t_{column}" for column in spec.columns])
        .annotate(**_month_sums(valid))
    )
    own_sql, own_params = own.query.sql_with_params()
    moves_sql, moves_params = moves.order_by().query.sql_with_params()
    qn = connection.ops.quote_name
    select = ", ".join(
        [
            f"mv.{qn('m_from')} AS p_from",
            f"mv.{qn('m_to')} AS p_to",
            f"own.{qn('t_month')} AS p_month",
            *[f"own.{qn('t_' + column)} AS p_{i}" for i, column in enumerate(spec.columns)],
            *[f"SUM(own.{qn('t_' + m)}) AS p_{m}" for m in MEASURES],
        ]
    )
    group = ", ".join(
        [
            f"mv.{qn('m_from')}",
            f"mv.{qn('m_to')}",
            f"own.{qn('t_month')}",
            *[f"own.{qn('t_' + column)}" for column in spec.columns],
        ]
    )
    pair_sums = (
        f"SELECT {select} FROM ({own_sql}) own "  # noqa: S608 — tables and columns of models, values as parameters
        f"JOIN ({moves_sql}) mv ON mv.{qn('m_key')} = own.{qn('t_holder')} GROUP BY {group}"
    )
    _upsert_pair_sums(spec, pair_sums, [*own_params, *moves_params], depth)


def _upsert_pair_sums(spec: TotalsSpec, pair_sums: str, params: list, depth: int | None) -> None:
    """Add the sums of `pair_sums` (p_from, p_to, p_month, p_0 … the dimensions, p_<measure>)
    to the new branch's line of ancestors and take them from the old one's: one INSERT …
    SELECT … ON CONFLICT DO UPDATE, in key order."""
    depth = tree_depth() if depth is None else depth
    if not depth:
        return
    model = spec.total_model()
    Branch = global_apps.get_model("associations", "Branch")
    qn = connection.ops.quote_name
    branch = qn(Branch._meta.db_table)
    table = qn(model._meta.db_table)
    arms = " UNION ALL ".join(
        f"SELECT pairs.p_from, pairs.p_to, b.id AS l_branch, {sign} AS l_sign FROM pairs "  # noqa: S608
        f"JOIN {branch} e ON e.id = pairs.{end} JOIN {branch} b ON b.path = SUBSTR(e.path, 1, {level * STEPLEN}) "
        f"WHERE LENGTH(e.path) >= {level * STEPLEN}"
        for end, sign in (("p_from", -1), ("p_to", 1))
        for level in range(1, depth + 1)
    )
    dims = [f"ps.p_{i}" for i in range(len(spec.columns))]
    group = ", ".join(["line.l_branch", "ps.p_month", *dims])
    sums = [f"SUM(line.l_sign * ps.p_{m})" for m in MEASURES]
    select = (
        f"WITH ps AS ({pair_sums}), "  # noqa: S608 — tables and columns of models, values as parameters
        f"pairs AS (SELECT DISTINCT p_from, p_to FROM ps), "
        f"line AS (SELECT p_from, p_to, l_branch, SUM(l_sign) AS l_sign FROM ({arms}) arms "
        f"GROUP BY p_from, p_to, l_branch HAVING SUM(l_sign) <> 0) "
        f"SELECT {group}, {', '.join(sums)} FROM line JOIN ps ON ps.p_from = line.p_from AND ps.p_to = line.p_to "
        f"GROUP BY {group} HAVING {' OR '.join(f'{s} <> 0' for s in sums)}"
    )
    keys = ["branch_id", "month", *[model._meta.get_field(column).column for column in spec.columns]]
    columns = ", ".join(qn(c) for c in [*keys, *MEASURES])
    updates = ", ".join(f"{qn(m)} = {table}.{qn(m)} + excluded.{qn(m)}" for m in MEASURES)
    order = ", ".join(str(i) for i in range(1, len(keys) + 1))
    with connection.cursor() as cursor:
        # The WITH inside the SELECT (SQLite), `WHERE true` before ON CONFLICT (SQLite's
        # parser would read the ON as a join's), the rows in key order (two writers lock
        # shared rows in the same order).
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT * FROM ({select}) d WHERE 1 = 1 ORDER BY {order} "  # noqa: S608
            f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET {updates}",
            params,
        )


def totals_drop_emptied(spec: TotalsSpec, *, moves: models.QuerySet, depth: int | None = None) -> int:
    """After moves (`moves` = (record, old branch, new branch) as for `totals_move_subtrees`),
    the stored rows of the old branches' lines of ancestors that the deltas left at zero in
    every measure are deleted: a zero row counts as absent everywhere, so they would only be
    dead weight (a round that empties hundreds of old units would leave their whole line).
    One statement (two without `depth`). Answers the number of rows deleted."""
    depth = tree_depth() if depth is None else depth
    if not depth:
        return 0
    Branch = global_apps.get_model("associations", "Branch")
    qn = connection.ops.quote_name
    branch = qn(Branch._meta.db_table)
    table = qn(spec.total_model()._meta.db_table)
    moves_sql, moves_params = moves.order_by().query.sql_with_params()
    lines = " UNION ".join(
        f"SELECT b.id FROM ({moves_sql}) mv JOIN {branch} e ON e.id = mv.{qn('m_from')} "  # noqa: S608
        f"JOIN {branch} b ON b.path = SUBSTR(e.path, 1, {level * STEPLEN}) WHERE LENGTH(e.path) >= {level * STEPLEN}"
        for level in range(1, depth + 1)
    )
    zero = " AND ".join(f"{qn(m)} = 0" for m in MEASURES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {zero} AND {qn('branch_id')} IN ({lines})",  # noqa: S608
            list(moves_params) * depth,
        )
        return max(cursor.rowcount, 0)
