"""The scholarships' measures in the catalogue (khuyenhoc.measures): money paid and award turns.

Counted as scholarships/reports.py counts them: awards not voided, by the day each award was
paid (`Award.paid_on`, from `start` to `end`, both included; no `start`: everything up to
`end`), each at the branch of the round that awarded it. A turn (lượt) is one award: the
same person awarded twice is two turns. A hardship turn is an award of the category "Poor
pupils overcoming hardship". One query per compute.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from associations.models import Branch
from khuyenhoc.measures import Measure, Timing, Unit, register
from scholarships.models import Award, AwardCategory


def _awards(root: Branch, start: datetime.date | None, end: datetime.date) -> QuerySet:
    rows = Award.objects.valid().order_by().in_subtree(root).filter(paid_on__lte=end)
    if start is not None:
        rows = rows.filter(paid_on__gte=start)
    return rows


def _by_branch(rows: QuerySet, figure) -> dict[int, int]:
    grouped = rows.values("round__branch_id").annotate(n=figure).values_list("round__branch_id", "n")
    return {branch_id: n for branch_id, n in grouped if n}


def _paid(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    return _by_branch(_awards(root, start, end), Sum("amount"))


def _turns(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    return _by_branch(_awards(root, start, end), Count("id"))


def _hardship_turns(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    return _by_branch(_awards(root, start, end).filter(category=AwardCategory.HARDSHIP), Count("id"))


PAID = Measure(
    code="scholarships.paid",
    label=_("Scholarships paid"),
    source=_("Scholarships: awards paid in the period, voided ones left out"),
    unit=Unit.DONG,
    timing=Timing.OVER_PERIOD,
    compute=_paid,
    description=_("Counted at the branch that awarded the round; awards in kind at their value."),
)
TURNS = Measure(
    code="scholarships.turns",
    label=_("Award turns"),
    source=_("Scholarships: awards paid in the period, voided ones left out"),
    unit=Unit.TURNS,
    timing=Timing.OVER_PERIOD,
    compute=_turns,
    description=_("One award is one turn: a person awarded twice counts twice."),
)
HARDSHIP_TURNS = Measure(
    code="scholarships.hardship_turns",
    label=_("Award turns for pupils overcoming hardship"),
    source=_("Scholarships: awards of the category “Poor pupils overcoming hardship” paid in the period"),
    unit=Unit.TURNS,
    timing=Timing.OVER_PERIOD,
    compute=_hardship_turns,
    description=_("One award is one turn: a person awarded twice counts twice."),
)

MEASURES = (PAID, TURNS, HARDSHIP_TURNS)


def measures_register() -> None:
    """Add the scholarships' measures to the catalogue; called from ScholarshipsConfig.ready()."""
    for measure in MEASURES:
        register(measure)
