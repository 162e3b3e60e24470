"""The dashboard's view of a plan over time, from what plans.selectors already read: the
plans a branch can choose from, each target's year-by-year table against its milestones,
and its chart on a true time axis.

A target for each branch of a level (Target.applies_to_level) is judged in the table and
the branches chart as in the targets panel (plans.selectors, `level_view`): a branch above
the level by how many of its branches of that level meet the year's milestone ("N/M
meet", `level_year_shares`: one query for all such targets), a branch below it not at
all ("Not judged at this level"); the figures shown are still all of them together.

The chart's x axis is linear in days (days since 01/01/1970), so 31/12/2025 and
31/12/2030 stand five years apart and "today" falls where it is in the year; the ticks are
written dd/mm/yyyy by static/js/dashboard.js. (Chart.js's time scale needs a date adapter
the project does not ship.)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from associations.models import Branch
from plans.models import IndicatorValue, OnMap, Plan, Target
from plans.selectors import _prefer_todays_map, percent_of

EPOCH = datetime.date(1970, 1, 1)


def day_number(day: datetime.date) -> int:
    return (day - EPOCH).days


@dataclass
class PlanChoices:
    current: list[Plan]
    past: list[Plan]


def plan_choices(branch: Branch, *, today: datetime.date) -> PlanChoices:
    """The plans with a target covering `branch` (one query): the current ones (active and
    not ended on `today`) first, newest first; the past ones (ended, inactive, or replaced
    by a newer version) after them."""
    plans = (
        Plan.objects.filter(targets__in=Target.objects.covering(branch))
        .distinct()
        .current_first(today)
        .select_related("issuing_branch")
    )
    choices = PlanChoices(current=[], past=[])
    for plan in plans:
        (choices.current if plan.is_current else choices.past).append(plan)
    return choices


class YearStatus:
    MET = "met"
    BELOW = "below"
    NO_DATA = "no_data"
    NOT_YET = "not_yet"
    NOT_JUDGED = "not_judged"  # a branch below the target's level

    LABELS = {
        MET: (_("Milestone met"), "✓"),
        BELOW: (_("Below the milestone"), "!"),
        NO_DATA: (_("No data"), "–"),
        NOT_YET: (_("Not reached yet"), "…"),
        NOT_JUDGED: (_("Not judged at this level"), "·"),
    }


_AGAINST_TARGET = {YearStatus.MET: _("Target met"), YearStatus.BELOW: _("Below the target")}


@dataclass
class YearRow:
    year: int
    milestone: Decimal | None
    figure: object | None  # plans.selectors.Figure: the value at 31/12, or today's in the current year
    status: str
    # Above the target's level: (branches of the level meeting the year's milestone, all of them).
    share: tuple[int, int] | None = None

    @property
    def share_percent(self) -> Decimal | None:
        return percent_of(self.share[0], self.share[1]) if self.share else None

    @property
    def status_label(self):
        # A year without a milestone of its own is judged against the target itself.
        if self.milestone is None and self.status in _AGAINST_TARGET:
            return _AGAINST_TARGET[self.status]
        return YearStatus.LABELS[self.status][0]

    @property
    def status_symbol(self):
        return YearStatus.LABELS[self.status][1]

    @property
    def is_partial(self) -> bool:
        """The figure is today's, the year not over yet."""
        return self.figure is not None and (self.figure.as_of.month, self.figure.as_of.day) != (12, 31)


def _milestone_of(target: Target, milestones: dict[int, Decimal], year: int) -> Decimal:
    return milestones.get(year, target.threshold_percent)


def level_year_shares(
    branch: Branch, items: list, *, on_map: str = OnMap.IN_FORCE
) -> dict[int, dict[datetime.date, tuple[int, int]]]:
    """{target id: {date: (met, total)}} for each target `branch` sees from above its level
    (`item.level_view == "above"`): on each date of its year table, how many of the level's
    branches under `branch` meet that year's milestone (the target's threshold in a year
    without one) of how many in force then; a branch with no data counts in the total, not
    as meeting. One query for all the targets, none when there is no such target."""
    wanted = Q(pk__in=[])
    above = {}
    for item in items:
        if getattr(item, "level_view", "") != "above" or item.now is None:
            continue
        above[item.target.pk] = item
        days = {figure.as_of for figure in item.trend} | {item.now.as_of}
        wanted |= Q(target=item.target, branch__level=item.target.applies_to_level, as_of__in=sorted(days))
    if not above:
        return {}
    todays_map = on_map == OnMap.TODAY
    values = list(
        IndicatorValue.objects.filter(
            wanted,
            branch__path__startswith=branch.path,
            on_map__in=[OnMap.IN_FORCE, OnMap.TODAY] if todays_map else [OnMap.IN_FORCE],
        )
        .annotate(path=F("branch__path"))
        .only("target_id", "as_of", "on_map", "numerator", "denominator")
    )
    if todays_map:
        values = _prefer_todays_map(values, key_of=lambda value: (value.target_id, value.as_of))
    milestones = {pk: {m.year: m.percent for m in item.milestones} for pk, item in above.items()}
    shares: dict[int, dict[datetime.date, list[int]]] = {}
    for value in values:
        target = above[value.target_id].target
        share = shares.setdefault(value.target_id, {}).setdefault(value.as_of, [0, 0])
        share[1] += 1
        percent = percent_of(value.numerator, value.denominator)
        if percent is not None and percent >= _milestone_of(target, milestones[value.target_id], value.as_of.year):
            share[0] += 1
    return {pk: {day: (met, total) for day, (met, total) in dated.items()} for pk, dated in shares.items()}


def year_rows(item, *, shares: dict[datetime.date, tuple[int, int]] | None = None) -> list[YearRow]:
    """Every year of the plan up to its deadline (or today, if later): the milestone set for
    it, the value at its end (today's for the year under way) and whether it met the
    milestone. `item` is a plans.selectors.TargetProgress; `shares` its
    `level_year_shares` when the branch sees the target from above its level: a year is then
    met when every branch of the level meets its milestone. Below the level a year is not
    judged."""
    level = getattr(item, "level_view", "")
    target = item.target
    milestones = {m.year: m.percent for m in item.milestones}
    figures = {f.as_of: f for f in item.trend}
    now = item.now
    first = target.plan.starts_on.year
    last = max(target.deadline.year, now.as_of.year if now else first, *(milestones or [first]))
    rows = []
    for year in range(first, last + 1):
        figure = figures.get(datetime.date(year, 12, 31))
        if figure is None and now is not None and now.as_of.year == year:
            figure = now
        milestone = milestones.get(year)
        if figure is None:
            status = YearStatus.NOT_YET if now is None or year >= now.as_of.year else YearStatus.NO_DATA
        elif figure.percent is None:
            status = YearStatus.NO_DATA
        elif milestone is None:
            status = YearStatus.MET if figure.percent >= target.threshold_percent else YearStatus.BELOW
        else:
            status = YearStatus.MET if figure.percent >= milestone else YearStatus.BELOW
        if milestone is None and figure is None:
            continue
        share = None
        if figure is not None and level == "below":
            status = YearStatus.NOT_JUDGED
        elif figure is not None and level == "above" and shares is not None:
            share = shares.get(figure.as_of, (0, 0))
            met, total = share
            status = YearStatus.NO_DATA if not total else YearStatus.MET if met == total else YearStatus.BELOW
        rows.append(YearRow(year=year, milestone=milestone, figure=figure, status=status, share=share))
    return rows


def timeline_chart_data(item) -> dict:
    """The trend on a time axis: the values, the milestones at 31/12 of their year and the
    target at its deadline, each point at its day number, plus the axis's ends."""
    target = item.target
    points = [
        {
            "x": day_number(f.as_of),
            "label": f.as_of.strftime("%d/%m/%Y"),
            "percent": float(f.percent) if f.percent is not None else None,
        }
        for f in item.trend
    ]
    milestones = [
        {
            "x": day_number(datetime.date(m.year, 12, 31)),
            "label": datetime.date(m.year, 12, 31).strftime("%d/%m/%Y"),
            "percent": float(m.percent),
        }
        for m in item.milestones
    ]
    if not any(m["x"] == day_number(target.deadline) for m in milestones):
        milestones.append(
            {
                "x": day_number(target.deadline),
                "label": target.deadline.strftime("%d/%m/%Y"),
                "percent": float(target.threshold_percent),
            }
        )
    ends = [day_number(target.plan.starts_on), day_number(target.deadline)] + [p["x"] for p in points]
    return {
        "timeline": {"points": points, "milestones": milestones, "min": min(ends), "max": max(ends)},
        "children": children_chart_data(item),
    }


def children_chart_data(item) -> list[dict]:
    """The branches chart, judged as the targets panel judges each branch: a branch above the
    target's level keeps its figure taken together ("Tính chung", the bar, comparable with
    the target's line), is coloured by the status worked out from its branches of that level
    and labelled "N/M meet"; one below it keeps its figure and says it is not judged there."""
    children = []
    for row in item.children:
        percent = row.now.percent if row.now and row.now.percent is not None else None
        label = f"{row.status_symbol} {row.branch.name}"
        if row.level_share is not None:
            share = row.level_share
            label += " — " + gettext("%(met)s/%(total)s meet") % {"met": share.met, "total": share.total}
        children.append(
            {
                "label": label,
                "percent": float(percent) if percent is not None else 0,
                "status": row.status,
                "statusLabel": str(row.status_label),
                "url": row.branch.pk,
            }
        )
    return children
