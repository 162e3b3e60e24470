"""Storing the learning titles' figures (computed by learning/figures.py) as TitleFigure
rows. Run by plans' recompute (after a committed change, nightly, or on a manager's
request) with the indicators; a derived table, so no actor, no access check and no audit
row: what it stores follows from rows that were audited when they were written."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from associations.rollup import figures_store
from learning.figures import FIGURE_FIELDS, title_figures_compute
from learning.models import TitleFigure

__all__ = ["title_figures_recompute"]


@transaction.atomic
def title_figures_recompute(*, years: Iterable[int] | None = None) -> int:
    """Compute and store every branch's figures, for every title and year (only `years`
    when given: the other years' rows are left as they are), in one transaction so a page
    never reads half of a run. Answers the number of rows written or deleted."""
    years = None if years is None else sorted(set(years))
    return figures_store(
        TitleFigure,
        keys=["branch_id", "kind_id", "year"],
        values=list(FIGURE_FIELDS),
        totals=title_figures_compute(years=years),
        scope=None if years is None else {"year__in": years},
        touch=["computed_at"],
    )
