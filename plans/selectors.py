"""Reads for the leadership dashboard and its exports: only stored IndicatorValues (what the
worker computed), never the registry itself, so the page stays fast and renders while the
worker or Redis is down. A fixed number of queries whatever the size of the subtree."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from associations.models import Branch
from plans.models import (
    Indicator,
    IndicatorValue,
    MoneyYearTotal,
    Plan,
    RecomputeRun,
    ScholarshipYearTotal,
    Target,
    TargetMilestone,
)

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

    LABELS = {
        MET: (_("Target met"), "✓"),
        ON_TRACK: (_("On track"), "↗"),
        BEHIND: (_("Behind"), "!"),
        MISSED: (_("Missed at the deadline"), "✗"),
        NO_DATA: (_("No data"), "–"),
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
class ChildRow:
    branch: Branch
    now: Figure | None
    projection: Projection
    status: str

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
        """What static/js/dashboard.js draws; the same numbers are in the page's tables."""
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
            "children": [
                {
                    "label": f"{row.status_symbol} {row.branch.name}",
                    "percent": float(row.now.percent) if row.now and row.now.percent is not None else 0,
                    "status": row.status,
                    "statusLabel": str(row.status_label),
                    "url": row.branch.pk,
                }
                for row in self.children
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


def dashboard_for(branch: Branch, *, plan: Plan | None = None, plans: list[Plan] | None = None) -> Dashboard:
    """The dashboard of `branch`: every target of an active plan covering it, from stored values.

    Queries: targets (+ milestones), this branch's values, its children's values, the latest run."""
    targets = list(
        Target.objects.covering(branch)
        # A plan chosen by name is shown even when past or replaced (it stays readable).
        .filter(**({"plan": plan} if plan else {"plan__in": plans} if plans else {"plan__is_active": True}))
        .select_related("plan", "definition")
        .prefetch_related(Prefetch("milestones", queryset=TargetMilestone.objects.order_by("year")))
        .order_by("-plan__starts_on", "plan_id", "position", "id")
    )
    own: dict[int, dict[datetime.date, Figure]] = defaultdict(dict)
    computed_at = None
    if targets:
        rows = IndicatorValue.objects.filter(branch=branch, target__in=targets).values_list(
            "target_id", "as_of", "numerator", "denominator", "computed_at"
        )
        by_id = {t.pk: t for t in targets}
        for target_id, as_of, numerator, denominator, at in rows:
            own[target_id][as_of] = Figure(by_id[target_id], as_of, numerator, denominator)
            computed_at = at if computed_at is None or at > computed_at else computed_at

    progress: dict[int, TargetProgress] = {}
    child_dates = Q(pk__in=[])
    for target in targets:
        figures = own.get(target.pk, {})
        now = figures[max(figures)] if figures else None
        year_ago = figures.get(_year_before(now.as_of)) if now else None
        projection = project(target, now, year_ago, figures.get(target.deadline))
        trend = [f for day, f in sorted(figures.items()) if (day.month, day.day) == (12, 31) and day < now.as_of]
        if now:
            trend.append(now)
            child_dates |= Q(target=target, as_of__in=[now.as_of, _year_before(now.as_of), target.deadline])
        progress[target.pk] = TargetProgress(
            target, now, year_ago, projection, status_of(target, now, projection), trend=trend
        )

    if any(p.now for p in progress.values()):
        child_values = (
            # The children as an uncorrelated semi-join: PostgreSQL starts from the few child
            # branches and the (branch, target, as_of) index, not from every stored value of
            # the targets (0.4 s for the city against 12 ms on the full-size data).
            IndicatorValue.objects.filter(
                child_dates,
                branch_id__in=Branch.objects.order_by()
                .filter(path__startswith=branch.path, depth=branch.depth + 1)
                .values("id"),
            )
            .select_related("branch")
            .order_by("branch__path")
        )
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
            now = figures.get(item.now.as_of)
            projection = project(
                item.target, now, figures.get(_year_before(item.now.as_of)), figures.get(item.target.deadline)
            )
            item.children.append(
                ChildRow(branches[branch_id], now, projection, status_of(item.target, now, projection))
            )

    plans: dict[int, PlanProgress] = {}
    for target in targets:
        plans.setdefault(target.plan_id, PlanProgress(target.plan, [])).targets.append(progress[target.pk])
    latest_run = RecomputeRun.objects.order_by("-requested_at", "-id").first()
    return Dashboard(branch=branch, plans=list(plans.values()), computed_at=computed_at, latest_run=latest_run)


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

    def rows(self):
        for year in self.years:
            cells = [self.cells.get((year, name), (0, 0)) for name in self.fund_models]
            yield year, cells, sum(amount for amount, _n in cells)

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
