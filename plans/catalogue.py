"""Targets whose indicator is a catalogue definition (plans.models.IndicatorDefinition),
computed for every branch of the target's subtree at once, and the recompute that stores
them. Plan 99's two targets keep their own code (plans.indicators); plans.services routes
each target to one or the other.

`catalogue_compute(target=, as_of=)` answers {branch id: (numerator, denominator)}:

1. the tree: the subtree's branches (id, path today, in force on `as_of`, re-hung since),
   and, when a chapter was re-hung after `as_of`, the tree in force on `as_of`
   (`associations.history.tree_and_changes_on`: it hangs where it hung then): one or two
   queries, the tree not a data table;
2. each measure's `compute` once for the target's root (the numerator's, then the
   denominator's: a fixed handful of GROUP BY queries each, see khuyenhoc.measures); a
   dated measure (`Measure.dated`, the learning titles') keys each record by the branch it
   had on the day;
3. `associations.rollup.roll_up_by_path` adds each branch's own figures to its ancestors,
   on the tree as it stood on `as_of`.

So the number of queries does not grow with the tree (tests/plans/test_catalogue.py pins it).

Rules decided where the text is silent:
- A measure over a period (money raised, new members) counts the milestone year so far:
  from 01/01 of `as_of`'s year to `as_of`, both included. A measure at a date reads `as_of`.
- Every branch in force on `as_of` gets a value, (0, 0) when nothing counts. A denominator
  of 0 is stored as it is and means "no data": the dashboard shows "No data", never 0%
  (plans.selectors.percent_of answers None for it).
- Figures of records kept at a branch no longer in force still roll up into its ancestors
  (the tree today holds them); the branch itself gets no value.
- History on either map (issue 11, as Plan 99's `plans.indicators`): `catalogue_compute`
  counts a date on the map in force that day, so a value for a date before a
  reorganisation is the same before and after it; `catalogue_compute_on_todays_map` counts
  the same day on today's map — a dated measure's records under the branch they are on
  today, those kept at a dissolved branch (a year's registrations, decisions, eligible
  totals) under its successor through whole edges, or, for a split unit, in the line "From
  split units" of the branch in force above it (`associations.history.todays_tree`). The
  recompute stores both for the dates before the latest reorganisation.
- A definition naming a measure the catalogue does not have (not registered yet, or
  gone) is "not available": `catalogue_compute` raises `IndicatorNotAvailable`, the
  recompute skips the target and keeps nothing stale for it, and the dashboard says
  "Not available" — never an error page.
"""

from __future__ import annotations

import datetime

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When

from associations.history import last_reorganisation_day, todays_tree, tree_and_changes_on
from associations.models import Branch, RecordMove, Reorganisation
from associations.rollup import roll_up_by_path
from khuyenhoc import measures as catalogue
from plans.indicators import (
    computed_values_store,
    target_as_of_dates,
)
from plans.models import IndicatorDefinition, OnMap, Target

Counts = dict[int, tuple[int, int]]


class IndicatorNotAvailable(LookupError):
    """The definition names a measure the catalogue does not have."""


def period_of(measure: catalogue.Measure, as_of: datetime.date) -> tuple[datetime.date | None, datetime.date]:
    """(start, end) a measure counts for the value on `as_of`: the milestone year so far for
    a period measure, the day itself for a measure at a date."""
    if measure.timing == catalogue.Timing.OVER_PERIOD:
        return datetime.date(as_of.year, 1, 1), as_of
    return None, as_of


def _subtree_paths(
    root: Branch, as_of: datetime.date, tree: tuple[dict[int, str], bool] | None = None
) -> tuple[dict[int, str], set[int]]:
    """({branch id: path} of the whole subtree and the root's ancestors (the roll-up walks up
    to the tree's top), on the tree in force on `as_of` — a chapter re-hung since under the
    parent it had then — and today's path for a branch not in force that day; ids of the
    subtree's branches in force on `as_of`): one query, and one more for the tree in force
    (`associations.history.tree_and_changes_on`) only when a chapter of the subtree was
    re-hung after `as_of` and `tree` is not given."""
    ancestors = [root.path[:end] for end in range(Branch.steplen, len(root.path), Branch.steplen)]
    in_force = Q(Q(founded_on__isnull=True) | Q(founded_on__lte=as_of)) & Q(
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=as_of)
    )
    rehung_since = Exists(
        RecordMove.objects.filter(
            record_type="associations.branch",
            record_id=OuterRef("pk"),
            reorganisation__effective_on__gt=as_of,
            reorganisation__status=Reorganisation.Status.APPLIED,
        )
    )
    rows = (
        Branch.objects.order_by()
        .filter(Q(path__startswith=root.path) | Q(path__in=ancestors))
        .annotate(
            in_force=Case(
                When(in_force & Q(path__startswith=root.path), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            rehung=rehung_since,
        )
        .values_list("id", "path", "in_force", "rehung")
    )
    path_of: dict[int, str] = {}
    active: set[int] = set()
    rehung = False
    for branch_id, path, is_in_force, is_rehung in rows:
        path_of[branch_id] = path
        if is_in_force:
            active.add(branch_id)
            rehung = rehung or is_rehung
    if rehung or tree is not None:
        paths_then, _moved = tree or tree_and_changes_on(as_of)
        claimed = set()
        for branch_id in path_of.keys() & paths_then.keys():
            if path_of[branch_id] != paths_then[branch_id]:
                claimed.add(paths_then[branch_id])
            path_of[branch_id] = paths_then[branch_id]
        # A re-hung chapter takes a free path of its old parent on that day; a branch not in
        # force then whose path today lies there gives way (its records count nowhere that
        # day, as on Plan 99's tree in force), so no two branches share a path.
        step = Branch.steplen
        for branch_id in path_of.keys() - paths_then.keys():
            path = path_of[branch_id]
            if any(path[:end] in claimed for end in range(step, len(path) + 1, step)):
                del path_of[branch_id]
    return path_of, active


def _own_figures(
    definition: IndicatorDefinition, *, root: Branch, as_of: datetime.date, on_map: str
) -> dict[tuple, list[int]]:
    """{(branch id,): [figure of each part]}: each part's measure computed once for `root`,
    keyed by the branch its records count at on `on_map`."""
    parts = definition.parts()
    own: dict[tuple, list[int]] = {}
    for position, (_role, code, filters) in enumerate(parts):
        measure = catalogue.measure(code)
        start, end = period_of(measure, as_of)
        options = {"on_map": on_map} if measure.dated else {}
        figures = measure.compute(
            root=root, start=start, end=end, filters=catalogue.clean_filters(measure, filters), **options
        )
        for branch_id, figure in figures.items():
            own.setdefault((branch_id,), [0] * len(parts))[position] += figure
    return own


def definition_compute(
    *,
    definition: IndicatorDefinition,
    root: Branch,
    as_of: datetime.date,
    tree: tuple[dict[int, str], bool] | None = None,
) -> dict[int, tuple[int, int | None]]:
    """{branch id: (numerator, denominator)} of `definition` for every branch of `root`'s
    subtree in force on `as_of`, on the map in force that day; the denominator is None for
    a plain value. `tree`: `associations.history.tree_and_changes_on(as_of)` when the caller
    has it already."""
    missing = definition.missing_measures()
    if missing:
        raise IndicatorNotAvailable(", ".join(missing))
    path_of, in_force = _subtree_paths(root, as_of, tree)
    width = len(definition.parts())
    own = _own_figures(definition, root=root, as_of=as_of, on_map=catalogue.IN_FORCE)
    totals = roll_up_by_path(own, path_of=path_of)
    result: dict[int, tuple[int, int | None]] = {}
    for branch_id in in_force:
        figures = totals.get((branch_id,), (0,) * width)
        result[branch_id] = (figures[0], figures[1] if width > 1 else None)
    return result


def catalogue_compute(
    *, target: Target, as_of: datetime.date, tree: tuple[dict[int, str], bool] | None = None
) -> Counts:
    """{branch id: (numerator, denominator)} of a catalogue target for every branch of its
    subtree in force on `as_of`, on the map in force that day. Raises IndicatorNotAvailable
    when a measure is missing."""
    values = definition_compute(definition=target.definition, root=target.root_branch, as_of=as_of, tree=tree)
    return {branch_id: (numerator, denominator or 0) for branch_id, (numerator, denominator) in values.items()}


def catalogue_compute_on_todays_map(
    *, target: Target, as_of: datetime.date, today: datetime.date, tree: tuple | None = None
) -> tuple[Counts, Counts]:
    """(values, split lines) of a catalogue target's subtree on `as_of`, counted on today's
    map, as `plans.indicators.indicators_compute_on_todays_map` counts Plan 99's: each
    measure's figures keyed by the branch its records are on today (a dated measure asked
    so), a branch no longer in force placed by `associations.history.todays_tree` — its
    successor through whole edges, or the line "From split units" ({branch id: (numerator,
    denominator)}, also counted in that branch's total) of the branch in force above a split
    unit. `tree`: `todays_tree(today)` when the caller has it already."""
    definition = target.definition
    missing = definition.missing_measures()
    if missing:
        raise IndicatorNotAvailable(", ".join(missing))
    places, in_force_paths = tree or todays_tree(today)
    root = target.root_branch
    root_path = in_force_paths.get(root.pk)
    if root_path is None:
        return {}, {}
    by_owner = _own_figures(definition, root=root, as_of=as_of, on_map=catalogue.TODAY)
    own: dict[tuple, list[int]] = {}
    split: dict[int, list[int]] = {}
    for (branch_id,), figures in by_owner.items():
        place = places.get(branch_id)
        if place is None:  # pragma: no cover - a foreign key always points at a branch
            continue
        lines = [own.setdefault((place.branch_id,), [0] * len(figures))]
        if place.split:
            lines.append(split.setdefault(place.branch_id, [0] * len(figures)))
        for line in lines:
            for position, figure in enumerate(figures):
                line[position] += figure
    subtree = {branch_id: path for branch_id, path in in_force_paths.items() if path.startswith(root_path)}
    totals = roll_up_by_path(own, path_of=in_force_paths)
    values: Counts = {}
    for branch_id in subtree:
        figures = totals.get((branch_id,), (0, 0))
        values[branch_id] = (figures[0], figures[1] if len(figures) > 1 else 0)
    splits = {
        branch_id: (figures[0], figures[1] if len(figures) > 1 else 0)
        for branch_id, figures in split.items()
        if branch_id in values
    }
    return values, splits


def catalogue_target_recompute(*, target: Target, today: datetime.date, computed_at: datetime.datetime) -> int:
    """Compute and store every date of a catalogue target in one transaction (the same
    dates as Plan 99's: each plan year's end so far, the deadline once reached, today and a
    year before); the dates before the latest reorganisation also on today's map, with their
    lines "From split units"; drop the dates, maps and branches no longer stored. A target
    whose indicator is not available writes nothing and keeps what it had."""
    if not target.definition.is_available:
        return 0
    dates = target_as_of_dates(target, today=today)
    last_change = last_reorganisation_day()
    todays_map_dates = [day for day in dates if last_change is not None and day < last_change]

    def computed():  # (date, map, values), computed as they are read
        for as_of in dates:
            yield as_of, OnMap.IN_FORCE, catalogue_compute(target=target, as_of=as_of)
        todays = todays_tree(today) if todays_map_dates else None
        for as_of in todays_map_dates:
            values, splits = catalogue_compute_on_todays_map(target=target, as_of=as_of, today=today, tree=todays)
            yield as_of, OnMap.TODAY, values
            yield as_of, OnMap.SPLIT, splits

    return computed_values_store(
        target=target,
        rows=computed(),
        computed_at=computed_at,
        dates=dates,
        todays_map_dates=todays_map_dates,
        today=today,
    )
