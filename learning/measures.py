"""The learning titles' measures in the catalogue (khuyenhoc.measures): eligible, registered,
evaluated and recognised subjects, for the year of `end`.

Counted as learning/figures.py counts the title figures (`title_figures_compute(years=[Y])`),
each at the branch the records belong to:

- registered: registrations of the year not withdrawn, at the registration's branch;
- evaluated: of those, the ones with an evaluation; recognised: those at the stage
  "recognised";
- eligible: the eligible totals entered, at the branch they were entered for; for a title
  awarded to units, where no total covers the branch (entered for it or for a branch above
  it, even above `root`), the organisations active on at least one day of the year, at each
  organisation's branch — for titles in use, or out of use but registered that year.

The filter `title` takes title codes (TitleKind.code); none chosen (or only unknown codes)
counts every title together. The choices are read from the database when listed, since a
province adds its own titles. Registered, evaluated and recognised take one query;
eligible three (the unit titles, the entered totals, the organisations; two when no chosen
title is awarded to units).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from associations.models import Branch, Organization
from khuyenhoc.measures import Measure, Timing, Unit, register
from learning.figures import _active_in, _covered
from learning.models import EligibleCount, Registration, Stage, SubjectType, TitleKind


class _TitleChoices:
    """(code, name) of every learning title, read when listed: a province adds its own."""

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(TitleKind.objects.order_by("ordering", "name").values_list("code", "name")))


TITLE_FILTER = {"title": (_("Learning titles"), _TitleChoices())}


def _title_q(filters: Mapping[str, list[str]], prefix: str = "kind__") -> Q:
    """The chosen titles; unknown codes are ignored, and with no known code left every title
    counts — decided in the same query, not by one more."""
    codes = [code for code in filters.get("title") or () if isinstance(code, str)]
    if not codes:
        return Q()
    return Q(**{f"{prefix}code__in": codes}) | ~Exists(TitleKind.objects.order_by().filter(code__in=codes))


def _registrations(root: Branch, end: datetime.date, filters: Mapping[str, list[str]]) -> QuerySet:
    return Registration.objects.counted().order_by().in_subtree(root).filter(_title_q(filters), year=end.year)


def _by_branch(rows: QuerySet, figure) -> dict[int, int]:
    grouped = rows.values("branch_id").annotate(n=figure).values_list("branch_id", "n")
    return {branch_id: n for branch_id, n in grouped if n}


def _registered(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    return _by_branch(_registrations(root, end, filters), Count("id"))


def _evaluated(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    return _by_branch(_registrations(root, end, filters), Count("evaluation"))


def _recognised(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    return _by_branch(_registrations(root, end, filters).filter(stage=Stage.RECOGNISED), Count("id"))


def _eligible(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    year = end.year
    steplen = Branch.steplen
    own: dict[int, int] = {}

    registered_that_year = Registration.objects.counted().filter(kind=OuterRef("pk"), year=year)
    unit_kinds = [
        kind_id
        for kind_id, active, registered in TitleKind.objects.order_by()
        .filter(_title_q(filters, prefix=""), subject_type=SubjectType.UNIT)
        .annotate(registered=Exists(registered_that_year))
        .values_list("id", "active", "registered")
        if active or registered
    ]

    # Totals entered in the subtree count there; those entered above `root` only cover it.
    above = [root.path[:end] for end in range(steplen, len(root.path), steplen)]
    entered = (
        EligibleCount.objects.order_by()
        .filter(_title_q(filters), year=year)
        .filter(Q(branch__path__startswith=root.path) | Q(branch__path__in=above))
        .values_list("branch_id", "branch__path", "kind_id", "count")
    )
    entered_paths: dict[int, set[str]] = {}
    for branch_id, path, kind_id, count in entered:
        entered_paths.setdefault(kind_id, set()).add(path)
        if path.startswith(root.path):
            own[branch_id] = own.get(branch_id, 0) + count

    if unit_kinds:
        organizations = (
            Organization.objects.order_by()
            .filter(_active_in(year), branch__path__startswith=root.path)
            .values("branch_id", "branch__path")
            .annotate(n=Count("id"))
            .values_list("branch_id", "branch__path", "n")
        )
        for branch_id, path, count in organizations:
            for kind_id in unit_kinds:
                if not _covered(path, entered_paths.get(kind_id, set()), steplen):
                    own[branch_id] = own.get(branch_id, 0) + count
    return {branch_id: n for branch_id, n in own.items() if n}


_SOURCE_NOTE = _("For the year of the period's last day.")

ELIGIBLE = Measure(
    code="learning.eligible",
    label=_("Eligible for a learning title"),
    source=_("Learning titles: eligible totals entered, or the organisations register for titles awarded to units"),
    unit=Unit.COUNT,
    timing=Timing.AT_DATE,
    compute=_eligible,
    filters=TITLE_FILTER,
    description=_SOURCE_NOTE,
)
REGISTERED = Measure(
    code="learning.registered",
    label=_("Registered for a learning title"),
    source=_("Learning titles: registrations of the year, withdrawn ones left out"),
    unit=Unit.COUNT,
    timing=Timing.AT_DATE,
    compute=_registered,
    filters=TITLE_FILTER,
    description=_SOURCE_NOTE,
)
EVALUATED = Measure(
    code="learning.evaluated",
    label=_("Evaluated for a learning title"),
    source=_("Learning titles: registrations of the year with an evaluation"),
    unit=Unit.COUNT,
    timing=Timing.AT_DATE,
    compute=_evaluated,
    filters=TITLE_FILTER,
    description=_SOURCE_NOTE,
)
RECOGNISED = Measure(
    code="learning.recognised",
    label=_("Recognised with a learning title"),
    source=_("Learning titles: registrations of the year named in a recognition decision"),
    unit=Unit.COUNT,
    timing=Timing.AT_DATE,
    compute=_recognised,
    filters=TITLE_FILTER,
    description=_SOURCE_NOTE,
)

MEASURES = (ELIGIBLE, REGISTERED, EVALUATED, RECOGNISED)


def measures_register() -> None:
    """Add the learning titles' measures to the catalogue; called from LearningConfig.ready()."""
    for measure in MEASURES:
        register(measure)
