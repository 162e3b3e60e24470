"""Targets whose indicator is a catalogue definition (plans.models.IndicatorDefinition),
computed for every branch of the target's subtree at once, and the recompute that stores
them. Plan 99's two targets keep their own code (plans.indicators); plans.services routes
each target to one or the other.

`catalogue_compute(target=, as_of=)` answers {branch id: (numerator, denominator)}:

1. the subtree's branches (id, path, in force on `as_of`): one query, the tree not a data table;
2. each measure's `compute` once for the target's root (the numerator's, then the
   denominator's: a fixed handful of GROUP BY queries each, see khuyenhoc.measures);
3. `associations.rollup.roll_up_by_path` adds each branch's own figures to its ancestors.

So the number of queries does not grow with the tree (tests/plans/test_catalogue.py pins it).

Rules decided where the text is silent:
- A measure over a period (money raised, new members) counts the milestone year so far:
  from 01/01 of `as_of`'s year to `as_of`, both included. A measure at a date reads `as_of`.
- Every branch in force on `as_of` gets a value, (0, 0) when nothing counts. A denominator
  of 0 is stored as it is and means "no data": the dashboard shows "No data", never 0%
  (plans.selectors.percent_of answers None for it).
- Figures of records kept at a branch no longer in force still roll up into its ancestors
  (the tree today holds them); the branch itself gets no value. When the dated tree lands
  (associations.history), `_subtree_paths` is where the tree in force on the day goes.
- A definition naming a measure the catalogue does not have (not registered yet, or
  gone) is "not available": `catalogue_compute` raises `IndicatorNotAvailable`, the
  recompute skips the target and keeps nothing stale for it, and the dashboard says
  "Not available" — never an error page.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import BooleanField, Case, Q, Value, When

from associations.models import Branch
from associations.rollup import roll_up_by_path
from khuyenhoc import measures as catalogue
from plans.indicators import indicator_values_store, recompute_lock, target_as_of_dates
from plans.models import IndicatorDefinition, IndicatorValue, Target

Counts = dict[int, tuple[int, int]]


class IndicatorNotAvailable(LookupError):
    """The definition names a measure the catalogue does not have."""


def period_of(measure: catalogue.Measure, as_of: datetime.date) -> tuple[datetime.date | None, datetime.date]:
    """(start, end) a measure counts for the value on `as_of`: the milestone year so far for
    a period measure, the day itself for a measure at a date."""
    if measure.timing == catalogue.Timing.OVER_PERIOD:
        return datetime.date(as_of.year, 1, 1), as_of
    return None, as_of


def _subtree_paths(root: Branch, as_of: datetime.date) -> tuple[dict[int, str], set[int]]:
    """({branch id: path} of the whole subtree and the root's ancestors (the roll-up walks up
    to the tree's top), ids of the subtree's branches in force on `as_of`): one query."""
    ancestors = [root.path[:end] for end in range(Branch.steplen, len(root.path), Branch.steplen)]
    in_force = Q(Q(founded_on__isnull=True) | Q(founded_on__lte=as_of)) & Q(
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=as_of)
    )
    rows = (
        Branch.objects.order_by()
        .filter(Q(path__startswith=root.path) | Q(path__in=ancestors))
        .annotate(
            in_force=Case(
                When(in_force & Q(path__startswith=root.path), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values_list("id", "path", "in_force")
    )
    path_of: dict[int, str] = {}
    active: set[int] = set()
    for branch_id, path, is_in_force in rows:
        path_of[branch_id] = path
        if is_in_force:
            active.add(branch_id)
    return path_of, active


def definition_compute(
    *, definition: IndicatorDefinition, root: Branch, as_of: datetime.date
) -> dict[int, tuple[int, int | None]]:
    """{branch id: (numerator, denominator)} of `definition` for every branch of `root`'s
    subtree in force on `as_of`; the denominator is None for a plain value."""
    missing = definition.missing_measures()
    if missing:
        raise IndicatorNotAvailable(", ".join(missing))
    path_of, in_force = _subtree_paths(root, as_of)
    parts = definition.parts()
    own: dict[tuple, list[int]] = {}
    for position, (_role, code, filters) in enumerate(parts):
        measure = catalogue.measure(code)
        start, end = period_of(measure, as_of)
        figures = measure.compute(root=root, start=start, end=end, filters=catalogue.clean_filters(measure, filters))
        for branch_id, figure in figures.items():
            own.setdefault((branch_id,), [0] * len(parts))[position] += figure
    totals = roll_up_by_path(own, path_of=path_of)
    result: dict[int, tuple[int, int | None]] = {}
    for branch_id in in_force:
        figures = totals.get((branch_id,), (0,) * len(parts))
        result[branch_id] = (figures[0], figures[1] if len(parts) > 1 else None)
    return result


def catalogue_compute(*, target: Target, as_of: datetime.date) -> Counts:
    """{branch id: (numerator, denominator)} of a catalogue target for every branch of its
    subtree in force on `as_of`. Raises IndicatorNotAvailable when a measure is missing."""
    values = definition_compute(definition=target.definition, root=target.root_branch, as_of=as_of)
    return {branch_id: (numerator, denominator or 0) for branch_id, (numerator, denominator) in values.items()}


def catalogue_target_recompute(*, target: Target, today: datetime.date, computed_at: datetime.datetime) -> int:
    """Compute and store every date of a catalogue target in one transaction (the same
    dates as Plan 99's: each plan year's end so far, the deadline once reached, today and a
    year before); drop the dates and branches no longer stored. A target whose indicator is
    not available writes nothing and keeps what it had."""
    if not target.definition.is_available:
        return 0
    dates = target_as_of_dates(target, today=today)
    written = 0
    with transaction.atomic():
        recompute_lock(("target", target.pk))
        recompute_lock(("history", target.pk))
        for as_of in dates:
            values = catalogue_compute(target=target, as_of=as_of)
            written += indicator_values_store(target=target, as_of=as_of, values=values, computed_at=computed_at)
            # Branches not in force on that day (dissolved since, or not yet founded) keep no value.
            IndicatorValue.objects.filter(target=target, as_of=as_of).exclude(branch_id__in=list(values)).delete()
        IndicatorValue.objects.filter(target=target).exclude(as_of__in=dates).delete()
    return written
