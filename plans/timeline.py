"""The dashboard's view of a plan over time, from what plans.selectors already read (no
query of its own): the plans a branch can choose from, each target's year-by-year table
against its milestones, and its chart on a true time axis.

The chart's x axis is linear in days (days since 01/01/1970), so 31/12/2025 and
31/12/2030 stand five years apart and "today" falls where it is in the year; the ticks are
written dd/mm/yyyy by static/js/dashboard.js. (Chart.js's time scale needs a date adapter
the project does not ship.)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from associations.models import Branch
from plans.models import Plan, Target

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

    LABELS = {
        MET: (_("Milestone met"), "✓"),
        BELOW: (_("Below the milestone"), "!"),
        NO_DATA: (_("No data"), "–"),
        NOT_YET: (_("Not reached yet"), "…"),
    }


@dataclass
class YearRow:
    year: int
    milestone: Decimal | None
    figure: object | None  # plans.selectors.Figure: the value at 31/12, or today's in the current year
    status: str

    @property
    def status_label(self):
        return YearStatus.LABELS[self.status][0]

    @property
    def status_symbol(self):
        return YearStatus.LABELS[self.status][1]

    @property
    def is_partial(self) -> bool:
        """The figure is today's, the year not over yet."""
        return self.figure is not None and (self.figure.as_of.month, self.figure.as_of.day) != (12, 31)


def year_rows(item) -> list[YearRow]:
    """Every year of the plan up to its deadline (or today, if later): the milestone set for
    it, the value at its end (today's for the year under way) and whether it met the
    milestone. `item` is a plans.selectors.TargetProgress."""
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
        rows.append(YearRow(year=year, milestone=milestone, figure=figure, status=status))
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
    return {"timeline": {"points": points, "milestones": milestones, "min": min(ends), "max": max(ends)}}
