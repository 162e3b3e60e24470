"""The recompute after a write: only what the write can change (issue 16, freshness).

A write announces the branch whose subtree changed (khuyenhoc.signals): the records it
changed are owned inside that branch's subtree, so the stored values that can move are those
of the subtree and of the branch's ancestors, never a sibling's. `scoped_recompute` stores,
for each active target whose measures the write touches (`CHANGED_MEASURES`) and each date
the target stores:

- the subtree's values, computed by the same functions as the full run with the target's
  root replaced by the branch (queries restricted to the subtree);
- each ancestor's value moved by the subtree's change: stored(ancestor) + new(branch) −
  stored(branch). A value is the sum of the own figures of the owners below it, so this is
  what a full recompute stores, provided the stored values were those of the data before
  the write: every write runs one, and the runs of a target are serialised by
  `plans.indicators.recompute_lock` (the full run takes the same locks).

Plan 99's values on today's map move the same way: the receiver sends the changes of
branches not in force today to the city-wide run, so the changed records count where they
are, inside the subtree, and no line "From split units" moves.

Only the dates a write can change are recomputed: a record counts on a day only from its
own day on (a member from the day they joined, until the day they left; a donation from the
day it was received; an award from the day it was paid), so a write that says the earliest
day it touches (`from_day`, carried from the signal to the run) leaves every earlier stored
date as it is — a back-dated write still recomputes the past dates it moves.

Where that reasoning does not hold, the date is computed for the whole target, as the full
run does, and only the values that differ are written (exact, slower): Plan 99's dates
before the latest reorganisation on the map in force that day (a record counts where it
was on the day, perhaps outside the subtree: done last, in a transaction of its own under
its own lock, so the next write's quick part does not wait for it); a branch with no stored
value on a date (e.g. not in force then). When the stored dates are not the target's dates today (the day
has changed since the last run, or the target was never computed) the whole target is
recomputed, as the nightly run would.

The dashboard's stored money and scholarship totals move the same way, on today's tree.
"""

from __future__ import annotations

import copy
import datetime
import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from associations.history import last_reorganisation_day, todays_tree, tree_and_changes_on
from associations.models import Branch
from associations.rollup import branch_paths, figures_store, roll_up_by_path
from funds.models import Donation
from plans.catalogue import catalogue_compute, catalogue_compute_on_todays_map, catalogue_target_recompute
from plans.indicators import (
    indicator_values_store,
    indicators_compute_on_todays_map_with_tree,
    indicators_compute_with_tree,
    recompute_lock,
    target_as_of_dates,
    target_recompute,
)
from plans.models import (
    IndicatorValue,
    MoneyYearTotal,
    OnMap,
    RecomputeRun,
    RunStatus,
    ScholarshipYearTotal,
    Target,
)
from scholarships.models import Award

Counts = dict[int, tuple[int, int]]
logger = logging.getLogger(__name__)

# What a kind of write can change: the catalogue's measures by code prefix; Plan 99's two
# indicators count the registry; the stored money panels count donations and awards.
CHANGED_MEASURES = {"registry": ("registry.",), "money": ("funds.", "scholarships.")}
CHANGED_KINDS = tuple(CHANGED_MEASURES)


def target_touched(target: Target, changed: str) -> bool:
    """Whether a write of kind `changed` can move `target`'s values."""
    if not target.is_catalogue:
        return changed == "registry"
    prefixes = CHANGED_MEASURES[changed]
    return any(code.startswith(prefixes) for _role, code, _filters in target.definition.parts())


def _target_full(target: Target, *, today: datetime.date, computed_at: datetime.datetime) -> int:
    if target.is_catalogue:
        return catalogue_target_recompute(target=target, today=today, computed_at=computed_at)
    return target_recompute(target=target, today=today, computed_at=computed_at)


def _ancestor_ids(path: str, id_of: dict[str, int], *, top: str) -> list[int]:
    """Ids of the ancestors of the branch at `path`, from the one at `top` down (those found)."""
    step = Branch.steplen
    return [id_of[path[:end]] for end in range(len(top), len(path), step) if path[:end] in id_of]


def _moved_values(
    *, target: Target, as_of: datetime.date, on_map: str, branch: Branch, new: Counts, path_of: dict[int, str]
) -> Counts | None:
    """The values to store on one date: the subtree's `new` values and each ancestor's stored
    value moved by the branch's change. None when the stored values do not allow it."""
    branch_path = path_of.get(branch.pk)
    root_path = path_of.get(target.root_branch_id)
    if branch_path is None or root_path is None:
        return None
    id_of = {path: branch_id for branch_id, path in path_of.items()}
    subtree = {branch_id for branch_id, path in path_of.items() if path.startswith(branch_path)}
    chain = _ancestor_ids(branch_path, id_of, top=root_path)
    stored = {
        branch_id: (numerator, denominator)
        for branch_id, numerator, denominator in IndicatorValue.objects.order_by()
        .filter(target=target, as_of=as_of, on_map=on_map, branch_id__in=[*subtree, *chain])
        .values_list("branch_id", "numerator", "denominator")
    }
    if branch.pk not in new or branch.pk not in stored or set(new) != {b for b in stored if b in subtree}:
        return None
    moved_numerator = new[branch.pk][0] - stored[branch.pk][0]
    moved_denominator = new[branch.pk][1] - stored[branch.pk][1]
    values = dict(new)
    for ancestor in chain:
        if ancestor not in stored:  # not in force that day: no value, in the full run too
            continue
        numerator, denominator = stored[ancestor][0] + moved_numerator, stored[ancestor][1] + moved_denominator
        if numerator < 0 or denominator < 0:  # pragma: no cover - stored values out of step
            return None
        values[ancestor] = (numerator, denominator)
    return values


def _store_changed(
    *,
    target: Target,
    as_of: datetime.date,
    on_map: str,
    values: Counts,
    computed_at: datetime.datetime,
    path_of: dict[int, str],
) -> int:
    """Make one date's stored values equal `values` (a whole target's), writing only the
    rows that differ and those of their ancestors (`path_of`: the tree the values roll up
    on), so every branch whose dashboard shows a changed value — its own or a child's —
    gets the new computed_at; deleting the rows not there."""
    stored = {
        branch_id: (pk, (numerator, denominator))
        for pk, branch_id, numerator, denominator in IndicatorValue.objects.order_by()
        .filter(target=target, as_of=as_of, on_map=on_map)
        .values_list("pk", "branch_id", "numerator", "denominator")
    }
    changed = {
        branch_id: figures
        for branch_id, figures in values.items()
        if branch_id not in stored or stored[branch_id][1] != tuple(figures)
    }
    stale = [pk for branch_id, (pk, _figures) in stored.items() if branch_id not in values]
    moved = set(changed) | {branch_id for branch_id in stored if branch_id not in values}
    if moved:
        id_of = {path: branch_id for branch_id, path in path_of.items()}
        for branch_id in moved:
            path = path_of.get(branch_id, "")
            for end in range(Branch.steplen, len(path), Branch.steplen):
                ancestor = id_of.get(path[:end])
                if ancestor in values:
                    changed[ancestor] = values[ancestor]
    if stale:
        IndicatorValue.objects.filter(pk__in=stale).delete()
    return len(stale) + indicator_values_store(
        target=target, as_of=as_of, values=changed, computed_at=computed_at, on_map=on_map
    )


def _current_paths(branch: Branch, root: Branch) -> dict[int, str]:
    """{branch id: path} today of `branch`'s subtree and of its ancestors up to `root`."""
    ancestors = [branch.path[:end] for end in range(len(root.path), len(branch.path), Branch.steplen)]
    return dict(
        Branch.objects.order_by()
        .filter(Q(path__startswith=branch.path) | Q(path__in=ancestors))
        .values_list("id", "path")
    )


class Trees:
    """The trees one run reads, each once whatever the number of targets: the tree in force
    on each date (`tree_and_changes_on`), today's places (`todays_tree`) and today's paths."""

    def __init__(self, today: datetime.date) -> None:
        self.today = today
        self._on: dict[datetime.date, tuple] = {}
        self._todays: tuple | None = None
        self._current: dict[int, str] | None = None

    def current(self) -> dict[int, str]:
        """{branch id: path} of every branch today."""
        if self._current is None:
            self._current = branch_paths()
        return self._current

    def on(self, day: datetime.date) -> tuple:
        if day not in self._on:
            self._on[day] = tree_and_changes_on(day)
        return self._on[day]

    def todays(self) -> tuple:
        if self._todays is None:
            self._todays = todays_tree(self.today)
        return self._todays


def _history_key(target: Target) -> str:
    return f"plans:history-started:{target.pk}"


def _history_due(target: Target, since: datetime.datetime | None, from_day: datetime.date | None = None) -> bool:
    """Whether the dates computed whole from `from_day` (None: all) still need it for a write
    committed before `since`: not when another run began computing them — the same dates or
    more — after it (its figures include the write)."""
    if since is None:
        return True
    try:
        marker = cache.get(_history_key(target))
    except Exception:  # the cache being down: compute, as without it
        return True
    if not isinstance(marker, tuple):  # none, or one of a version that did not say its dates
        return True
    started, started_from = marker
    covers = started_from is None or (from_day is not None and started_from <= from_day)
    return not (covers and started > since)


def _history_starts(target: Target, from_day: datetime.date | None = None) -> None:
    try:
        cache.set(_history_key(target), (timezone.now(), from_day), timeout=24 * 3600)
    except Exception:  # the cache being down only costs a repeated computation
        logger.warning("plans: could not record the start of a computation", exc_info=True)


def target_scoped_recompute(
    *,
    target: Target,
    branch: Branch,
    today: datetime.date,
    computed_at: datetime.datetime,
    trees: Trees | None = None,
    since: datetime.datetime | None = None,
    from_day: datetime.date | None = None,
) -> int:
    """Store the values of `target` that a change in `branch`'s subtree from `from_day` on
    (None: on any day) can move — the subtree's and its ancestors', at the stored dates
    from `from_day` — equal to what `target_recompute` would store for them. Answers the
    number of rows written or deleted."""
    trees = trees or Trees(today)
    catalogue = target.is_catalogue
    if catalogue and not target.definition.is_available:
        return 0
    dates = target_as_of_dates(target, today=today)
    last_change = last_reorganisation_day()  # a catalogue target is dated too (plans.catalogue)
    todays_map_dates = [day for day in dates if last_change is not None and day < last_change]
    stored_dates = set(
        IndicatorValue.objects.order_by()
        .filter(target=target)
        .exclude(on_map=OnMap.SPLIT)
        .values_list("as_of", "on_map")
        .distinct()
    )
    expected = {(day, OnMap.IN_FORCE) for day in dates} | {(day, OnMap.TODAY) for day in todays_map_dates}
    if stored_dates != expected:
        return _target_full(target, today=today, computed_at=computed_at)
    if from_day is not None:  # the earlier dates' values cannot have moved
        dates = [day for day in dates if day >= from_day]
        todays_map_dates = [day for day in todays_map_dates if day >= from_day]
    scoped = copy.copy(target)
    scoped.root_branch = branch
    scoped.root_branch_id = branch.pk

    def whole(*, target: Target, as_of: datetime.date) -> Counts:
        if catalogue:
            return catalogue_compute(target=target, as_of=as_of)
        return indicators_compute_with_tree(target=target, as_of=as_of, tree=trees.on(as_of))[0]

    written = 0
    history: list[datetime.date] = []
    # First the dates a restricted computation settles (today's value among them), in one
    # transaction; then, in a second under another lock, the dates computed whole, so the
    # next write's run need not wait for this one's slow part.
    with transaction.atomic():
        recompute_lock(("target", target.pk))
        current_paths = _current_paths(branch, target.root_branch) if catalogue else {}
        for as_of in dates:
            if last_change is not None and as_of < last_change:
                history.append(as_of)  # a record may count that day where it was then, outside the subtree
                continue
            if catalogue:
                new, path_of = catalogue_compute(target=scoped, as_of=as_of), current_paths
            else:
                new, path_of, _moved = indicators_compute_with_tree(target=scoped, as_of=as_of, tree=trees.on(as_of))
            if not catalogue and branch.pk not in path_of and not new:
                continue  # Plan 99 on the map of that day: a branch not in the tree then counts nowhere
            values = _moved_values(
                target=target, as_of=as_of, on_map=OnMap.IN_FORCE, branch=branch, new=new, path_of=path_of
            )
            if values is None:
                written += _store_changed(
                    target=target,
                    as_of=as_of,
                    on_map=OnMap.IN_FORCE,
                    values=whole(target=target, as_of=as_of),
                    computed_at=computed_at,
                    path_of=trees.current() if catalogue else trees.on(as_of)[0],
                )
                continue
            written += indicator_values_store(target=target, as_of=as_of, values=values, computed_at=computed_at)
        # Today's map: the changed records' branches are in force today (the receiver sends
        # any other change to the city-wide run), so they count where they are, in the
        # subtree, and no line "From split units" moves.
        for as_of in todays_map_dates:
            if catalogue:  # computed whole, as the history dates are
                lines = catalogue_compute_on_todays_map(target=target, as_of=as_of, today=today, tree=trees.todays())
                for on_map, figures in zip((OnMap.TODAY, OnMap.SPLIT), lines, strict=True):
                    written += _store_changed(
                        target=target,
                        as_of=as_of,
                        on_map=on_map,
                        values=figures,
                        computed_at=computed_at,
                        path_of=trees.todays()[1],
                    )
                continue
            new, _splits, path_of = indicators_compute_on_todays_map_with_tree(
                target=scoped, as_of=as_of, today=today, tree=trees.todays()
            )
            values = _moved_values(
                target=target, as_of=as_of, on_map=OnMap.TODAY, branch=branch, new=new, path_of=path_of
            )
            if values is not None:
                written += indicator_values_store(
                    target=target, as_of=as_of, values=values, computed_at=computed_at, on_map=OnMap.TODAY
                )
                continue
            values, splits, _paths = indicators_compute_on_todays_map_with_tree(
                target=target, as_of=as_of, today=today, tree=trees.todays()
            )
            for on_map, figures in ((OnMap.TODAY, values), (OnMap.SPLIT, splits)):
                written += _store_changed(
                    target=target,
                    as_of=as_of,
                    on_map=on_map,
                    values=figures,
                    computed_at=computed_at,
                    path_of=trees.todays()[1],
                )
    if history:
        with transaction.atomic():
            recompute_lock(("history", target.pk))
            if not _history_due(target, since, from_day):
                return written
            _history_starts(target, from_day)
            for as_of in history:
                written += _store_changed(
                    target=target,
                    as_of=as_of,
                    on_map=OnMap.IN_FORCE,
                    values=whole(target=target, as_of=as_of),
                    computed_at=computed_at,
                    path_of=trees.current() if catalogue else trees.on(as_of)[0],
                )
    return written


# --- The dashboard's money and scholarship panels -------------------------------------------
def _panel_scoped(model, *, keys: list[str], values: list[str], own, branch: Branch, path_of: dict[int, str]) -> int:
    """Store `model`'s totals of `branch`'s subtree (from `own`, the subtree's own rows) and
    move its ancestors' by the branch's change; the rest of the table is untouched."""
    subtree = {branch_id for branch_id, path in path_of.items() if path.startswith(branch.path)}
    chain = [branch_id for branch_id in path_of if branch_id not in subtree]
    new = {key: figures for key, figures in roll_up_by_path(own, path_of=path_of).items() if key[0] in subtree}
    stored = {
        tuple(row[: len(keys)]): tuple(row[len(keys) :])
        for row in model.objects.order_by().filter(branch_id__in=[branch.pk, *chain]).values_list(*keys, *values)
    }
    width = len(values)
    moved: dict[tuple, list[int]] = {}
    for source, sign in ((new, 1), (stored, -1)):
        for (branch_id, *rest), figures in source.items():
            if branch_id == branch.pk:
                total = moved.setdefault(tuple(rest), [0] * width)
                for position, value in enumerate(figures):
                    total[position] += sign * value
    totals = dict(new)
    for key, figures in stored.items():
        if key[0] != branch.pk:
            totals[key] = figures
    for ancestor in chain:
        for rest, change in moved.items():
            current = totals.get((ancestor, *rest), (0,) * width)
            totals[(ancestor, *rest)] = tuple(a + b for a, b in zip(current, change, strict=True))
    totals = {key: figures for key, figures in totals.items() if any(figures)}
    return figures_store(model, keys=keys, values=values, totals=totals, scope={"branch_id__in": list(path_of)})


def panel_totals_scoped_recompute(*, branch: Branch) -> int:
    """The stored money and scholarship totals of `branch`'s subtree and its ancestors, equal
    to what `plans.indicators.panel_totals_recompute` would store for them."""
    path_of = _current_paths(branch, Branch.objects.get(path=branch.path[: Branch.steplen]))
    donations = (
        Donation.objects.valid()
        .order_by()
        .filter(fund__branch__path__startswith=branch.path)
        .annotate(year=ExtractYear("received_on"))
        .values("fund__branch_id", "year", "fund__fund_model_id")
        .annotate(amount=Sum("amount"), donations=Count("id"))
        .values_list("fund__branch_id", "year", "fund__fund_model_id", "amount", "donations")
    )
    awards = (
        Award.objects.valid()
        .order_by()
        .filter(round__branch__path__startswith=branch.path)
        .annotate(year=ExtractYear("paid_on"))
        .values("round__branch_id", "year")
        .annotate(turns=Count("id"), amount=Sum("amount"))
        .values_list("round__branch_id", "year", "turns", "amount")
    )
    with transaction.atomic():
        recompute_lock(("panels", 0))
        written = _panel_scoped(
            MoneyYearTotal,
            keys=["branch_id", "year", "fund_model_id"],
            values=["amount", "donations"],
            own={(b, y, m): (amount or 0, n) for b, y, m, amount, n in donations},
            branch=branch,
            path_of=path_of,
        )
        written += _panel_scoped(
            ScholarshipYearTotal,
            keys=["branch_id", "year"],
            values=["turns", "amount"],
            own={(b, y): (turns, amount or 0) for b, y, turns, amount in awards},
            branch=branch,
            path_of=path_of,
        )
    return written


def scoped_recompute(
    *,
    branch: Branch,
    changed: str,
    today: datetime.date | None = None,
    since: datetime.datetime | None = None,
    from_day: datetime.date | None = None,
) -> int:
    """Recompute what a write of kind `changed` ("registry" or "money") in `branch`'s subtree
    can move: the values of every active target touched, for the subtree and its ancestors
    (a target rooted inside the subtree: all of it), and for money the stored panel totals.
    `since`: when the run was requested (after the write's commit); the dates computed whole
    are left out when another run began computing them after it, so a burst of writes
    computes them about once. `from_day`: the earliest day the writes can change (None: any
    day); the stored dates before it are left as they are. Answers the number of rows
    written or deleted."""
    today = today or timezone.localdate()
    computed_at = timezone.now()
    trees = Trees(today)
    written = 0
    targets = Target.objects.filter(plan__is_active=True).select_related("plan", "root_branch", "definition")
    for target in targets:
        if not target_touched(target, changed):
            continue
        root = target.root_branch
        if branch.path.startswith(root.path):
            written += target_scoped_recompute(
                target=target,
                branch=branch,
                today=today,
                computed_at=computed_at,
                trees=trees,
                since=since,
                from_day=from_day,
            )
        elif root.path.startswith(branch.path):
            written += _target_full(target, today=today, computed_at=computed_at)
    if changed == "money":
        written += panel_totals_scoped_recompute(branch=branch)
    return written


def last_recomputed_at(branch: Branch) -> datetime.datetime | None:
    """When the stored values `branch`'s dashboard reads last changed, at the latest: the end
    of the latest finished run that could change them — a city-wide run, or a run after a
    write in the branch's subtree or at one of its ancestors (one query). A cache of the
    dashboard's panels keyed on it is never stale: every run that writes a value or a
    panel total of the branch ends after writing it."""
    ancestors = [branch.path[:end] for end in range(Branch.steplen, len(branch.path), Branch.steplen)]
    return (
        RecomputeRun.objects.filter(status=RunStatus.DONE)
        .filter(Q(branch__isnull=True) | Q(branch__path__startswith=branch.path) | Q(branch__path__in=ancestors))
        .aggregate(latest=Max("finished_at"))["latest"]
    )
