"""Money of a period on today's map (issue 11, item 5), from the stored monthly totals.

A reorganisation moves what is alive (funds, open scholarship rounds) to the successors; the
records of funds and rounds closed before it stay on the dissolved branch they belonged to.
On today's map those records count where `associations.history.todays_tree` places that
branch: under its successor through whole lineage edges (a whole merge), or, where the
branch was split, on a separate line "From split units" of the branch in force above it
(also counted in that branch's total), never guessed onto one successor.

The stored rows (`funds.totals`: DonationMonthTotal, AwardMonthTotal) hold each branch's
SUBTREE by path. Today's figure of a branch X is its own stored row, plus the records of the
branches outside its path subtree that today's map places inside it, minus those inside its
path subtree that today's map places elsewhere. A set D of branches has own records
sum_{B in D} (row(B) - sum of row(child of B)), so each branch Y gets the coefficient
[Y in D] - [parent(Y) in D] (a subtree wholly in D adds only its top row): the figure is
ONE GROUP BY over the stored rows of a few branches, each weighted by its coefficient, with
the line "From split units" as a second weighted sum in the same query. Nothing is counted
twice, and no query runs per branch.

Queries: the tree (three: `todays_tree`'s two and the paths of every branch; pass
`TodaysMapWeights` to several calls to read it once) and one per kind of record.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import BigIntegerField, Case, Count, F, Max, Q, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from associations.history import todays_tree
from associations.models import Branch
from associations.rollup import branch_paths
from funds.totals import TotalsSpec

STEPLEN = Branch.steplen
logger = logging.getLogger(__name__)


@dataclass
class TodaysMapWeights:
    """The coefficient of each branch's stored row in one branch's figure on today's map
    (`total`) and in its line "From split units" (`split`); branches not listed weigh 0."""

    branch_id: int
    total: dict[int, int] = field(default_factory=dict)
    split: dict[int, int] = field(default_factory=dict)

    @property
    def branch_ids(self) -> list[int]:
        return sorted(set(self.total) | set(self.split))


def _own_weights(members: set[int], path_of: dict[int, str], sign: int, into: dict[int, int]) -> None:
    """Add sign × (the own records of each branch of `members`) to `into` as row
    coefficients: +sign for the branch's row, -sign for each of its children's rows."""
    if not members:
        return
    for branch_id in members:
        into[branch_id] = into.get(branch_id, 0) + sign
    parent_paths = {path_of[branch_id] for branch_id in members if branch_id in path_of}
    for branch_id, path in path_of.items():
        if len(path) > STEPLEN and path[:-STEPLEN] in parent_paths:
            into[branch_id] = into.get(branch_id, 0) - sign


def todays_map_weights(branch: Branch, *, today: datetime.date | None = None) -> TodaysMapWeights:
    """The weights of the stored rows in `branch`'s figure on today's map (three queries,
    the tree not a data table). `branch` must be in force `today`."""
    today = today or timezone.localdate()
    places, in_force_paths = todays_tree(today)
    path_of = branch_paths()
    top = path_of.get(branch.pk, branch.path)
    inside_today = {branch_id for branch_id, path in in_force_paths.items() if path.startswith(top)}
    brought_in: set[int] = set()  # outside the path subtree, placed inside it today
    sent_out: set[int] = set()  # inside the path subtree, placed outside it today
    split_line: set[int] = set()  # placed on this branch's line "From split units"
    for branch_id, place in places.items():
        in_path = path_of.get(branch_id, "").startswith(top)
        in_today = place.branch_id in inside_today
        if in_today and not in_path:
            brought_in.add(branch_id)
        elif in_path and not in_today:
            sent_out.add(branch_id)
        if place.split and place.branch_id == branch.pk:
            split_line.add(branch_id)
    weights = TodaysMapWeights(branch_id=branch.pk, total={branch.pk: 1})
    _own_weights(brought_in, path_of, 1, weights.total)
    _own_weights(sent_out, path_of, -1, weights.total)
    _own_weights(split_line, path_of, 1, weights.split)
    weights.total = {key: value for key, value in weights.total.items() if value}
    weights.split = {key: value for key, value in weights.split.items() if value}
    return weights


# The weights depend on the tree and its lineage only; computing them reads the whole tree
# (~3 s at full size on a loaded machine), so they are kept in the cache under a stamp of the
# tree read by one aggregate query: a branch added or dissolved (an applied reorganisation
# founds successors and dissolves predecessors) makes a new key. A chapter moved elsewhere
# keeps the stamp: its stored rows move with it (funds.totals.totals_move_subtree), and the
# weights, which concern dissolved branches, stay right; the short life bounds any other case.
WEIGHTS_SECONDS = 10 * 60


def _tree_stamp() -> tuple:
    """What changes when today's places can: one query."""
    stamp = Branch.objects.order_by().aggregate(
        branches=Count("id"),
        last=Max("id"),
        dissolved=Count("id", filter=Q(dissolved_on__isnull=False)),
        last_dissolved=Max("dissolved_on"),
        last_founded=Max("founded_on"),
    )
    return tuple(sorted(stamp.items()))


def todays_map_weights_cached(branch: Branch, *, today: datetime.date | None = None) -> TodaysMapWeights:
    """`todays_map_weights`, from the cache when the tree has not changed (one query then,
    four on a miss). A cache that cannot be reached is skipped."""
    today = today or timezone.localdate()
    key = "funds:todays-map-weights:v1:" + hashlib.sha256(repr((branch.pk, today, _tree_stamp())).encode()).hexdigest()
    try:
        weights = cache.get(key)
    except Exception:
        logger.warning("funds: the cache could not be read", exc_info=True)
        weights = None
    if weights is None:
        weights = todays_map_weights(branch, today=today)
        try:
            cache.set(key, weights, WEIGHTS_SECONDS)
        except Exception:
            logger.warning("funds: the cache could not be written", exc_info=True)
    return weights


def _weighted(coefficients: dict[int, int]):
    by_value: dict[int, list[int]] = defaultdict(list)
    for branch_id, value in coefficients.items():
        by_value[value].append(branch_id)
    whens = [When(branch_id__in=ids, then=Value(value)) for value, ids in sorted(by_value.items())]
    if not whens:
        return Value(0, output_field=BigIntegerField())
    return Case(*whens, default=Value(0), output_field=BigIntegerField())


def todays_map_sums(
    spec: TotalsSpec,
    *,
    weights: TodaysMapWeights,
    group_by: tuple[str, ...] = (),
    first_month: datetime.date | None = None,
    last_month: datetime.date | None = None,
) -> tuple[dict[tuple, tuple[int, int]], dict[tuple, tuple[int, int]]]:
    """({(year, *group_by values): (count, amount)} of the valid records of the weighed
    branch on today's map, the same for its line "From split units"), over the whole months
    `first_month` .. `last_month` (None: open), grouped by year of the month and by
    `group_by` (the total model's columns or lookups, e.g. "fund_model__name"). One query.
    Groups that sum to nothing are left out."""
    rows = spec.total_model().objects.order_by().filter(branch_id__in=weights.branch_ids)
    if first_month is not None:
        rows = rows.filter(month__gte=first_month)
    if last_month is not None:
        rows = rows.filter(month__lte=last_month)
    zero = Value(0, output_field=BigIntegerField())
    rows = (
        rows.annotate(t_year=ExtractYear("month"), t_w=_weighted(weights.total), t_s=_weighted(weights.split))
        .values("t_year", *group_by)
        .annotate(
            t_count=Coalesce(Sum(F("count") * F("t_w"), output_field=BigIntegerField()), zero),
            t_amount=Coalesce(Sum(F("amount") * F("t_w"), output_field=BigIntegerField()), zero),
            s_count=Coalesce(Sum(F("count") * F("t_s"), output_field=BigIntegerField()), zero),
            s_amount=Coalesce(Sum(F("amount") * F("t_s"), output_field=BigIntegerField()), zero),
        )
        .values_list("t_year", *group_by, "t_count", "t_amount", "s_count", "s_amount")
    )
    total: dict[tuple, tuple[int, int]] = {}
    split: dict[tuple, tuple[int, int]] = {}
    width = 1 + len(group_by)
    for row in rows:
        key, (count, amount, split_count, split_amount) = tuple(row[:width]), row[width:]
        if count or amount:
            total[key] = (count, amount)
        if split_count or split_amount:
            split[key] = (split_count, split_amount)
    return total, split
