"""Reads for the leadership dashboard and its exports: only stored IndicatorValues (what the
worker computed), never the registry itself, so the page stays fast and renders while the
worker or Redis is down. A fixed number of queries whatever the size of the subtree."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, IntegerField, Max, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from associations.models import Branch, BranchLevel, RecordMove, Reorganisation
from funds.todays_map import todays_map_sums, todays_map_weights_cached
from funds.totals import DONATIONS
from khuyenhoc.money import MoneyUnit, money_unit
from plans.models import (
    Indicator,
    IndicatorValue,
    MoneyYearTotal,
    OnMap,
    Plan,
    RecomputeRun,
    ScholarshipYearTotal,
    Target,
    TargetMilestone,
)
from scholarships.totals import AWARDS

TWO_PLACES = Decimal("0.01")
# Stored values older than this are flagged: the nightly run has not happened.
STALE_AFTER = datetime.timedelta(hours=26)


class Status:
    """Whether a branch is on track; each has a text and a symbol, never colour alone."""

    MET = "met"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    MISSED = "missed"
    NO_DATA = "no_data"
    # A target for each branch of a level, seen below that level: the figure is shown, the
    # judging is the level's (plans.selectors, "Targets for each branch of a level").
    NOT_JUDGED = "not_judged"

    LABELS = {
        MET: (_("Target met"), "✓"),
        ON_TRACK: (_("On track"), "↗"),
        BEHIND: (_("Behind"), "!"),
        MISSED: (_("Missed at the deadline"), "✗"),
        NO_DATA: (_("No data"), "–"),
        NOT_JUDGED: (_("Not judged at this level"), "·"),
    }


def percent_of(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / denominator).quantize(TWO_PLACES)


def gap_text(target: Target, gap: int) -> str:
    count = number_format(gap, force_grouping=True)
    if target.is_catalogue:
        return ngettext("needs %(count)s more", "needs %(count)s more", gap) % {"count": count}
    if target.indicator == Indicator.BOARD_COVERAGE:
        return ngettext("needs %(count)s more board", "needs %(count)s more boards", gap) % {"count": count}
    return ngettext("needs %(count)s more member", "needs %(count)s more members", gap) % {"count": count}


@dataclass
class Figure:
    """One branch's value of a target on one date, with what it lacks."""

    target: Target
    as_of: datetime.date
    numerator: int
    denominator: int

    @property
    def percent(self) -> Decimal | None:
        return percent_of(self.numerator, self.denominator)

    @property
    def required(self) -> int:
        return self.target.required_numerator(self.denominator)

    @property
    def gap(self) -> int:
        return max(0, self.required - self.numerator)

    @property
    def gap_text(self) -> str:
        return gap_text(self.target, self.gap)

    @property
    def met(self) -> bool:
        return self.denominator > 0 and self.gap == 0


@dataclass
class Projection:
    """At the pace of the last 12 months, will the target be met by its deadline?"""

    deadline_passed: bool
    pace: Decimal | None = None  # percentage points per year over the last 12 months
    projected: Decimal | None = None  # percentage expected at the deadline at that pace
    will_meet: bool | None = None
    needed_pace: Decimal | None = None  # points per year needed from now to the deadline
    at_deadline: Figure | None = None


def project(target: Target, now: Figure | None, year_ago: Figure | None, at_deadline: Figure | None) -> Projection:
    if now is None:
        return Projection(deadline_passed=False)
    if target.deadline <= now.as_of:
        met = at_deadline.met if at_deadline else None
        return Projection(deadline_passed=True, will_meet=met, at_deadline=at_deadline)
    projection = Projection(deadline_passed=False)
    if now.percent is None:
        return projection
    years_left = Decimal((target.deadline - now.as_of).days) / Decimal("365.25")
    threshold = target.threshold_percent
    projection.needed_pace = max(Decimal(0), (threshold - now.percent) / years_left).quantize(TWO_PLACES)
    if year_ago is not None and year_ago.percent is not None:
        projection.pace = (now.percent - year_ago.percent).quantize(TWO_PLACES)
        projection.projected = min(Decimal(100), now.percent + projection.pace * years_left).quantize(TWO_PLACES)
        projection.will_meet = projection.projected >= threshold
    elif now.percent >= threshold:
        projection.will_meet = True
    return projection


def status_of(target: Target, now: Figure | None, projection: Projection) -> str:
    if now is None or not now.denominator:
        return Status.NO_DATA
    if projection.deadline_passed:
        return Status.MET if projection.will_meet else Status.MISSED
    if now.met:
        return Status.MET
    return Status.ON_TRACK if projection.will_meet else Status.BEHIND


@dataclass
class LevelShare:
    """A target for each branch of a level, seen from a branch above that level: how many of
    the level's branches below meet it on a date, and how the others stand."""

    level: str
    as_of: datetime.date
    statuses: dict[str, int] = field(default_factory=dict)  # {Status: number of branches}

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def met(self) -> int:
        return self.statuses.get(Status.MET, 0)

    @property
    def below(self) -> int:
        return self.total - self.met

    @property
    def on_track(self) -> int:
        return self.statuses.get(Status.ON_TRACK, 0)

    @property
    def behind(self) -> int:
        return self.statuses.get(Status.BEHIND, 0) + self.statuses.get(Status.MISSED, 0)

    @property
    def no_data(self) -> int:
        return self.statuses.get(Status.NO_DATA, 0)

    @property
    def percent(self) -> Decimal | None:
        """The share of the level's branches that meet the target."""
        return percent_of(self.met, self.total)

    @property
    def status(self) -> str:
        """Met when every branch of the level meets it; missed when the deadline has passed
        and some do not; on track when every other one is on track; else behind."""
        if not self.total:
            return Status.NO_DATA
        if self.met == self.total:
            return Status.MET
        if self.statuses.get(Status.MISSED):
            return Status.MISSED
        if self.met + self.on_track == self.total:
            return Status.ON_TRACK
        return Status.BEHIND

    @property
    def level_label(self) -> str:
        return str(BranchLevel(self.level).label)


@dataclass
class ChildRow:
    branch: Branch
    now: Figure | None
    projection: Projection
    status: str
    # Above the target's level: the share of the level's branches below it that meet it.
    level_share: LevelShare | None = None

    @property
    def status_label(self):
        return Status.LABELS[self.status][0]

    @property
    def status_symbol(self):
        return Status.LABELS[self.status][1]


@dataclass
class TargetProgress:
    target: Target
    now: Figure | None
    year_ago: Figure | None
    projection: Projection
    status: str
    trend: list[Figure] = field(default_factory=list)
    children: list[ChildRow] = field(default_factory=list)
    # On today's map: the records of split units, a line of their own below the children.
    split: ChildRow | None = None
    # The date the branches below are shown for, and every stored date (the date picker).
    shown_on: datetime.date | None = None
    dates: list[datetime.date] = field(default_factory=list)
    # A target for each branch of a level (Target.applies_to_level): how this branch is
    # judged — "level" (it is of that level: judged on its own figure), "above" (judged by
    # the share of the level's branches below that meet it, `level_share`) or "below"
    # (shown, not judged: the level above judges it); "" for a target of the subtree as a whole.
    level_view: str = ""
    level_share: LevelShare | None = None

    @property
    def status_label(self):
        return Status.LABELS[self.status][0]

    @property
    def status_symbol(self):
        return Status.LABELS[self.status][1]

    @property
    def available(self) -> bool:
        """False when the target's catalogue indicator names a measure not registered."""
        definition = self.target.definition if self.target.is_catalogue else None
        return definition is None or definition.is_available

    @property
    def milestones(self) -> list[TargetMilestone]:
        return list(self.target.milestones.all())

    def chart_data(self) -> dict:
        """What static/js/dashboard.js draws of the target itself; the same numbers are in the
        page's tables. The branches below come with the drill-down (`plans.timeline.children_chart_data`)."""
        milestones = {m.year: float(m.percent) for m in self.milestones}
        return {
            "id": self.target.pk,
            "threshold": float(self.target.threshold_percent),
            "trend": [
                {
                    "label": f.as_of.strftime("%d/%m/%Y"),
                    "percent": float(f.percent) if f.percent is not None else None,
                    "milestone": milestones.get(f.as_of.year) if (f.as_of.month, f.as_of.day) == (12, 31) else None,
                }
                for f in self.trend
            ],
        }


@dataclass
class PlanProgress:
    plan: Plan
    targets: list[TargetProgress]


@dataclass
class Dashboard:
    branch: Branch
    plans: list[PlanProgress]
    computed_at: datetime.datetime | None
    latest_run: RecomputeRun | None
    on_map: str = "in_force"

    @property
    def on_todays_map(self) -> bool:
        return self.on_map == OnMap.TODAY

    @property
    def age(self) -> datetime.timedelta | None:
        return timezone.now() - self.computed_at if self.computed_at else None

    @property
    def is_stale(self) -> bool:
        return self.age is None or self.age > STALE_AFTER

    @property
    def targets(self) -> list[TargetProgress]:
        return [t for p in self.plans for t in p.targets]


def _year_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _prefer_todays_map(rows, *, key_of) -> list:
    """On today's map: for each key (target and date, or more), the rows counted on today's
    map where some exist (the days before the latest reorganisation), else those on the map
    in force (the days since, when both maps are the same)."""
    with_today = {key_of(row) for row in rows if row.on_map != OnMap.IN_FORCE}
    return [row for row in rows if (row.on_map != OnMap.IN_FORCE) == (key_of(row) in with_today)]


def dashboard_targets(branch: Branch, *, plan: Plan | None = None, plans: list[Plan] | None = None) -> list[Target]:
    """The targets the dashboard of `branch` shows, in order (two queries: the targets with
    their plan and definition, their milestones): those of `plan`, else of `plans`, else of
    every active plan."""
    return list(
        Target.objects.covering(branch)
        # A plan chosen by name is shown even when past or replaced (it stays readable).
        .filter(**({"plan": plan} if plan else {"plan__in": plans} if plans else {"plan__is_active": True}))
        .select_related("plan", "definition")
        .prefetch_related(Prefetch("milestones", queryset=TargetMilestone.objects.order_by("year")))
        .order_by("-plan__starts_on", "plan_id", "position", "id")
    )


def dashboard_target_or_none(branch: Branch, target_id: int) -> Target | None:
    """One target covering `branch` (current or past, as a plan chosen by name), with its
    plan, definition and milestones (two queries), or None (→ 404): the drill-down of one
    target, loaded on demand."""
    return (
        Target.objects.covering(branch)
        .filter(pk=target_id)
        .select_related("plan", "definition")
        .prefetch_related(Prefetch("milestones", queryset=TargetMilestone.objects.order_by("year")))
        .first()
    )


def dashboard_values_version(branch: Branch, targets: list[Target]) -> tuple:
    """What changes whenever a recompute writes or forgets a stored value of `branch` for
    `targets` (one query): the latest computed_at and the number of rows. A recompute that
    changes a value below the branch rewrites the branch's own values too (they roll up), so
    this also moves when a child's value does."""
    if not targets:
        return (None, 0)
    found = IndicatorValue.objects.filter(branch=branch, target__in=targets).aggregate(
        latest=Max("computed_at"), rows=Count("id")
    )
    return (found["latest"].isoformat() if found["latest"] else None, found["rows"])


def dashboard_for(
    branch: Branch,
    *,
    plan: Plan | None = None,
    plans: list[Plan] | None = None,
    on_map: str = OnMap.IN_FORCE,
    as_of: datetime.date | None = None,
    targets: list[Target] | None = None,
) -> Dashboard:
    """The dashboard of `branch`: every target of an active plan covering it, from stored values.

    `on_map`: OnMap.IN_FORCE counts each date on the map in force that day (a date before a
    reorganisation shows the branches of that time); OnMap.TODAY counts it on today's map,
    with the line "From split units" among the branches below. `as_of`: the stored date the
    branches below are shown for (default: the latest).

    `targets`: those of `dashboard_targets(branch, plan=plan, plans=plans)` when already read.

    Queries: targets (+ milestones), this branch's values, its children's values, the latest run."""
    todays_map = on_map == OnMap.TODAY
    maps = [OnMap.IN_FORCE, OnMap.TODAY, OnMap.SPLIT] if todays_map else [OnMap.IN_FORCE]
    if targets is None:
        targets = dashboard_targets(branch, plan=plan, plans=plans)
    own: dict[int, dict[datetime.date, Figure]] = defaultdict(dict)
    splits: dict[int, dict[datetime.date, Figure]] = defaultdict(dict)
    computed_at = None
    if targets:
        rows = list(
            IndicatorValue.objects.filter(branch=branch, target__in=targets, on_map__in=maps).only(
                "target_id", "as_of", "on_map", "numerator", "denominator", "computed_at"
            )
        )
        if todays_map:
            split_rows = [row for row in rows if row.on_map == OnMap.SPLIT]
            rows = _prefer_todays_map(
                [row for row in rows if row.on_map != OnMap.SPLIT], key_of=lambda row: (row.target_id, row.as_of)
            )
        else:
            split_rows = []
        by_id = {t.pk: t for t in targets}
        for value in rows:
            own[value.target_id][value.as_of] = Figure(
                by_id[value.target_id], value.as_of, value.numerator, value.denominator
            )
            computed_at = value.computed_at if computed_at is None or value.computed_at > computed_at else computed_at
        for value in split_rows:
            splits[value.target_id][value.as_of] = Figure(
                by_id[value.target_id], value.as_of, value.numerator, value.denominator
            )

    progress: dict[int, TargetProgress] = {}
    shown_on: dict[int, datetime.date] = {}
    child_dates = Q(pk__in=[])
    for target in targets:
        figures = own.get(target.pk, {})
        now = figures[max(figures)] if figures else None
        year_ago = figures.get(_year_before(now.as_of)) if now else None
        projection = project(target, now, year_ago, figures.get(target.deadline))
        trend = [f for day, f in sorted(figures.items()) if (day.month, day.day) == (12, 31) and day < now.as_of]
        if now:
            trend.append(now)
            day = as_of if as_of in figures else now.as_of
            shown_on[target.pk] = day
            child_dates |= Q(target=target, as_of__in=[day, _year_before(day), target.deadline])
        progress[target.pk] = TargetProgress(
            target, now, year_ago, projection, status_of(target, now, projection), trend=trend
        )
        progress[target.pk].shown_on = shown_on.get(target.pk)
        progress[target.pk].dates = sorted(figures)

    if any(p.now for p in progress.values()):
        children = Branch.objects.order_by().filter(path__startswith=branch.path, depth=branch.depth + 1)
        child_branches = Q(branch_id__in=children.values("id"))
        if not todays_map:
            # On the map in force on a past day, a chapter re-hung since was below its old parent.
            rehung = RecordMove.objects.filter(
                record_type="associations.branch",
                from_branch=branch,
                reorganisation__status=Reorganisation.Status.APPLIED,
            ).values("record_id")
            child_branches |= Q(branch_id__in=rehung)
        child_values = list(
            # The children as an uncorrelated semi-join: PostgreSQL starts from the few child
            # branches and the (branch, target, as_of) index, not from every stored value of
            # the targets (0.4 s for the city against 12 ms on the full-size data).
            IndicatorValue.objects.filter(child_dates, child_branches, on_map__in=maps[:2])
            .select_related("branch")
            .order_by("branch__path")
        )
        if todays_map:
            child_values = _prefer_todays_map(child_values, key_of=lambda value: (value.target_id, value.as_of))
        per_child: dict[tuple[int, int], dict[datetime.date, Figure]] = defaultdict(dict)
        branches: dict[int, Branch] = {}
        for value in child_values:
            branches[value.branch_id] = value.branch
            target = progress[value.target_id].target
            per_child[(value.target_id, value.branch_id)][value.as_of] = Figure(
                target, value.as_of, value.numerator, value.denominator
            )
        for (target_id, branch_id), figures in per_child.items():
            item = progress[target_id]
            day = shown_on[target_id]
            now = figures.get(day)
            if now is None and (branches[branch_id].is_dissolved_on(day) or _founded_after(branches[branch_id], day)):
                continue  # not a branch of the map shown on that day
            projection = project(item.target, now, figures.get(_year_before(day)), figures.get(item.target.deadline))
            item.children.append(
                ChildRow(branches[branch_id], now, projection, status_of(item.target, now, projection))
            )
        for target_id, figures in splits.items():
            item = progress[target_id]
            day = shown_on.get(target_id)
            split = figures.get(day)
            if split is not None:
                projection = project(item.target, split, figures.get(_year_before(day)), None)
                item.split = ChildRow(None, split, projection, status_of(item.target, split, projection))

    _judge_by_level(branch, list(progress.values()), maps=maps[:2], todays_map=todays_map)

    plans: dict[int, PlanProgress] = {}
    for target in targets:
        plans.setdefault(target.plan_id, PlanProgress(target.plan, [])).targets.append(progress[target.pk])
    latest_run = RecomputeRun.objects.order_by("-requested_at", "-id").first()
    return Dashboard(
        branch=branch,
        plans=list(plans.values()),
        computed_at=computed_at,
        latest_run=latest_run,
        on_map=on_map,
    )


# --- Targets for each branch of a level ---------------------------------------------------------
# Target.applies_to_level = L: each branch of level L must reach the target. A branch of level L
# is judged on its own figure (status, gap in words, projection), as any target. A branch above
# L is judged by its branches of level L: how many meet the target (the headline), and how
# many are on track or behind at their own pace; its roll-up is still shown, as "all of them
# together", since a leader reads it as the size of the effort, but a roll-up of 70% may hide
# communes at 20%, so it does not decide the status. A branch below L shows its figure
# without judging it. No level: the subtree as a whole, judged at every branch (as before).
LEVEL_ORDER = [BranchLevel.CITY, BranchLevel.DISTRICT, BranchLevel.COMMUNE, BranchLevel.CHAPTER, BranchLevel.BOARD]


def level_view(branch_level: str, target_level: str) -> str:
    """How a branch of `branch_level` is judged for a target of `target_level` (see above)."""
    if not target_level or branch_level not in LEVEL_ORDER or target_level not in LEVEL_ORDER:
        return ""
    here, there = LEVEL_ORDER.index(branch_level), LEVEL_ORDER.index(target_level)
    return "level" if here == there else "above" if here < there else "below"


def _judge_by_level(branch: Branch, items: list[TargetProgress], *, maps: list[str], todays_map: bool) -> None:
    """Apply the targets' levels to the dashboard of `branch`: one more query, for the
    targets seen from above their level (the values of their level's branches below)."""
    above: list[TargetProgress] = []
    for item in items:
        item.level_view = level_view(branch.level, item.target.applies_to_level)
        if not item.level_view:
            continue
        for row in item.children:
            if level_view(row.branch.level, item.target.applies_to_level) == "below":
                row.status = Status.NOT_JUDGED
        if item.level_view == "below":
            item.status = Status.NOT_JUDGED
        elif item.level_view == "above" and item.now is not None:
            above.append(item)
    if not above:
        return
    wanted = Q(pk__in=[])
    for item in above:
        target, days = item.target, {item.now.as_of, item.shown_on or item.now.as_of}
        wanted |= Q(
            target=target,
            branch__level=target.applies_to_level,
            as_of__in=[*days, *(_year_before(day) for day in days), target.deadline],
        )
    values = list(
        IndicatorValue.objects.filter(wanted, branch__path__startswith=branch.path, on_map__in=maps)
        .annotate(path=F("branch__path"))
        .only("target_id", "branch_id", "as_of", "on_map", "numerator", "denominator")
    )
    if todays_map:
        values = _prefer_todays_map(values, key_of=lambda value: (value.target_id, value.as_of))
    by_id = {item.target.pk: item for item in above}
    figures: dict[tuple[int, int], dict[datetime.date, Figure]] = defaultdict(dict)
    paths: dict[int, str] = {}
    for value in values:
        paths[value.branch_id] = value.path
        target = by_id[value.target_id].target
        figures[(value.target_id, value.branch_id)][value.as_of] = Figure(
            target, value.as_of, value.numerator, value.denominator
        )
    steplen = Branch.steplen
    for item in above:
        target = item.target
        rows = {row.branch.path: row for row in item.children if row.branch is not None}
        for row in rows.values():
            if level_view(row.branch.level, target.applies_to_level) == "above":
                row.level_share = LevelShare(target.applies_to_level, item.shown_on)
        item.level_share = LevelShare(target.applies_to_level, item.now.as_of)
        for (target_id, branch_id), dated in figures.items():
            if target_id != target.pk:
                continue
            for day, share in ((item.now.as_of, item.level_share), (item.shown_on, None)):
                now = dated.get(day)
                if now is None:
                    continue  # not a branch in force that day
                projection = project(target, now, dated.get(_year_before(day)), dated.get(target.deadline))
                status = status_of(target, now, projection)
                if share is None:
                    row = rows.get(paths[branch_id][: len(branch.path) + steplen])
                    share = row.level_share if row is not None else None
                if share is not None:
                    share.statuses[status] = share.statuses.get(status, 0) + 1
        item.status = item.level_share.status
        for row in rows.values():
            if row.level_share is not None:
                row.status = row.level_share.status


def _founded_after(branch: Branch, day: datetime.date) -> bool:
    return branch.founded_on is not None and branch.founded_on > day


def plan_for_branch_or_none(branch: Branch, plan_id: int) -> Plan | None:
    """A plan (current or past) with a target covering `branch`, or None (→ 404)."""
    return Plan.objects.filter(pk=plan_id, targets__in=Target.objects.covering(branch)).distinct().first()


def dashboard_values(branch: Branch) -> list[dict]:
    """Every stored value of the branch and its children, for the JSON endpoint."""
    rows = (
        IndicatorValue.objects.filter(
            branch_id__in=Branch.objects.order_by()
            .filter(path__startswith=branch.path, depth__lte=branch.depth + 1)
            .values("id")
        )
        .filter(target__plan__is_active=True)
        .select_related("branch", "target")
        .order_by("target_id", "branch__path", "as_of")
    )
    return [
        {
            "target": v.target_id,
            "indicator": v.target.indicator,
            "branch": v.branch_id,
            "branch_name": v.branch.name,
            "as_of": v.as_of.isoformat(),
            "numerator": v.numerator,
            "denominator": v.denominator,
            "computed_at": v.computed_at.isoformat(),
        }
        for v in rows
    ]


# --- Money and scholarship panels ----------------------------------------------------------
# Read from the yearly totals the recompute stores (plans.indicators.panel_totals_recompute),
# one query each, like the indicator part of the page: the figures are as of the last run.
@dataclass
class MoneyPanel:
    available: bool
    years: list[int] = field(default_factory=list)
    fund_models: list[str] = field(default_factory=list)
    # {(year, fund model): (amount in đồng, donations)}
    cells: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    # On today's map (`dashboard_panels_on_todays_map`): the records of split units closed
    # before the reorganisation, kept apart ("From split units", also in the totals):
    # {year: (amount in đồng, donations)}.
    on_todays_map: bool = False
    split_years: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def split_rows(self) -> list[tuple[int, int, int]]:
        """[(year, amount in đồng, donations)] of the line "From split units"."""
        return [(year, amount, count) for year, (amount, count) in sorted(self.split_years.items())]

    def rows(self):
        for year in self.years:
            cells = [self.cells.get((year, name), (0, 0)) for name in self.fund_models]
            yield year, cells, sum(amount for amount, _n in cells)

    def table(self) -> dict:
        """The table as the page shows it: each column's amounts in one unit named in its header.
        {"columns": [(name, unit)], "total_unit": unit, "rows": [(year, [(amount, unit)], total)]}"""
        rows = list(self.rows())
        units = [money_unit(cells[i][0] for _y, cells, _t in rows) for i in range(len(self.fund_models))]
        return {
            "columns": list(zip(self.fund_models, units, strict=True)),
            "total_unit": money_unit(total for _y, _c, total in rows),
            "rows": [
                (year, [(amount, unit) for (amount, _n), unit in zip(cells, units, strict=True)], total)
                for year, cells, total in rows
            ],
        }

    def chart_data(self) -> dict:
        return {
            "years": self.years,
            "series": [
                {"label": name, "values": [self.cells.get((y, name), (0, 0))[0] for y in self.years]}
                for name in self.fund_models
            ],
        }


def money_panel(branch: Branch) -> MoneyPanel:
    """Money raised per year and fund model in the subtree, from the stored totals (one
    query). Counts what the funds reports count (funds/reports.py): donations not voided, by
    the day they were received."""
    rows = list(
        MoneyYearTotal.objects.filter(branch=branch)
        .order_by("year", "fund_model__ordering", "fund_model__name")
        .values_list("year", "fund_model__name", "fund_model__ordering", "amount", "donations")
    )
    panel = MoneyPanel(available=True)
    models_in_order: dict[str, None] = {}
    for _year, name, _ordering, _amount, _count in sorted(rows, key=lambda r: (r[2], r[1])):
        models_in_order.setdefault(name, None)
    for year, name, _ordering, amount, count in rows:
        panel.cells[(year, name)] = (amount, count)
    panel.years = sorted({year for year, _name in panel.cells})
    panel.fund_models = list(models_in_order)
    return panel


@dataclass
class ScholarshipPanel:
    available: bool
    # [(year, turns, amount in đồng)]
    rows: list[tuple[int, int, int]] = field(default_factory=list)
    on_todays_map: bool = False
    # On today's map: the split units' awards of each year, also in `rows` ("From split units").
    split_rows: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def amount_unit(self) -> MoneyUnit:
        """The one unit of the Amount column (khuyenhoc.money.money_unit)."""
        return money_unit(amount for _y, _t, amount in self.rows)

    def chart_data(self) -> dict:
        return {
            "years": [year for year, _t, _a in self.rows],
            "turns": [turns for _y, turns, _a in self.rows],
            "amounts": [amount for _y, _t, amount in self.rows],
        }


def scholarship_panel(branch: Branch) -> ScholarshipPanel:
    """Scholarship turns (one Award row is one turn) and amounts per year of payment in the
    subtree, from the stored totals (one query); voided awards count nowhere, as in
    scholarships/reports.py."""
    rows = ScholarshipYearTotal.objects.filter(branch=branch).order_by("year").values_list("year", "turns", "amount")
    return ScholarshipPanel(available=True, rows=[tuple(row) for row in rows])


def dashboard_panels(branch: Branch) -> tuple[MoneyPanel, ScholarshipPanel]:
    """`money_panel(branch)` and `scholarship_panel(branch)` in one query (a UNION ALL of the
    two stored yearly totals), for the dashboard's cached path."""
    money = MoneyYearTotal.objects.filter(branch=branch).values_list(
        Value(0, output_field=IntegerField()), "year", "fund_model__name", "fund_model__ordering", "amount", "donations"
    )
    awards = ScholarshipYearTotal.objects.filter(branch=branch).values_list(
        Value(1, output_field=IntegerField()),
        "year",
        Value(""),
        Value(0, output_field=IntegerField()),
        "amount",
        "turns",
    )
    rows = list(money.union(awards, all=True))
    money_rows = sorted((row[1:] for row in rows if row[0] == 0), key=lambda r: (r[0], r[2], r[1]))
    panel = MoneyPanel(available=True)
    models_in_order: dict[str, None] = {}
    for _year, name, _ordering, _amount, _count in sorted(money_rows, key=lambda r: (r[2], r[1])):
        models_in_order.setdefault(name, None)
    for year, name, _ordering, amount, count in money_rows:
        panel.cells[(year, name)] = (amount, count)
    panel.years = sorted({year for year, _name in panel.cells})
    panel.fund_models = list(models_in_order)
    scholarships = ScholarshipPanel(
        available=True, rows=sorted((year, turns, amount) for kind, year, _n, _o, amount, turns in rows if kind == 1)
    )
    return panel, scholarships


def dashboard_panels_on_todays_map(
    branch: Branch, *, today: datetime.date | None = None
) -> tuple[MoneyPanel, ScholarshipPanel]:
    """The money and scholarship panels of `branch` on today's map (issue 11): each year's
    donations and award turns counted under the branch their records went to — a dissolved
    branch's closed funds and rounds under its successor through whole lineage edges, a
    split branch's on a line "From split units" of the branch above it, never guessed —
    from the stored monthly totals (`funds.todays_map`): the tree's stamp and the weights
    from the cache (one query; four when the tree changed) and one query per kind of
    record, whatever the tree's size. A branch not in force today has
    no figures on today's map."""
    today = today or timezone.localdate()
    money = MoneyPanel(available=True, on_todays_map=True)
    scholarships = ScholarshipPanel(available=True, on_todays_map=True)
    if branch.is_dissolved_on(today) or _founded_after(branch, today):
        return money, scholarships
    weights = todays_map_weights_cached(branch, today=today)
    donations, donations_split = todays_map_sums(
        DONATIONS, weights=weights, group_by=("fund_model__name", "fund_model__ordering")
    )
    models_in_order: dict[str, None] = {}
    for _year, name, _ordering in sorted(donations, key=lambda key: (key[2], key[1])):
        models_in_order.setdefault(name, None)
    for (year, name, _ordering), (count, amount) in donations.items():
        money.cells[(year, name)] = (amount, count)
    for (year, _name, _ordering), (count, amount) in donations_split.items():
        before = money.split_years.get(year, (0, 0))
        money.split_years[year] = (before[0] + amount, before[1] + count)
    money.years = sorted({year for year, _name in money.cells})
    money.fund_models = list(models_in_order)
    awards, awards_split = todays_map_sums(AWARDS, weights=weights)
    scholarships.rows = sorted((year, turns, amount) for (year,), (turns, amount) in awards.items())
    scholarships.split_rows = sorted((year, turns, amount) for (year,), (turns, amount) in awards_split.items())
    return money, scholarships


def dashboard_version_and_run(branch: Branch, targets: list[Target]) -> tuple[tuple, RecomputeRun | None]:
    """`dashboard_values_version(branch, targets)` and the latest recompute run (what the
    page's heading shows), in one query while a run exists (the version as subqueries of the
    run's row); two before the first run."""
    runs = RecomputeRun.objects.order_by("-requested_at", "-id")
    if not targets:
        return (None, 0), runs.first()
    values = IndicatorValue.objects.filter(branch=branch, target__in=targets).order_by().values("branch")
    run = runs.annotate(
        values_latest=Subquery(values.annotate(latest=Max("computed_at")).values("latest")[:1]),
        values_rows=Coalesce(Subquery(values.annotate(rows=Count("id")).values("rows")[:1]), 0),
    ).first()
    if run is None:
        return dashboard_values_version(branch, targets), None
    latest = run.values_latest
    return (latest.isoformat() if latest else None, run.values_rows), run
