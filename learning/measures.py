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

from django.db.models import Count, Exists, F, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from associations.models import Branch, Organization, OrganizationHeadcount
from khuyenhoc.measures import Measure, Timing, Unit, register
from learning.figures import _active_in, _covered
from learning.models import (
    Citizen,
    EligibleCount,
    Registration,
    Stage,
    SubjectType,
    TitleKind,
)


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

# --- People by the title of their household, clan, village or unit (Plan 291/KH-UBND) ------------
#
# "Workers in GĐHT/DHHT/CĐHT reaching Công dân học tập" and "staff of ĐVHT reaching CDHT" are
# counted per titled subject, for the year of `end`, at the branch of the subject's
# recognised registration (where its title counts):
#
# - workers in titled communities = the people of working age (`working_people`) of each
#   household, clan and village recognised that year with a title awarded to households,
#   clans or villages (the `title` filter narrows it to some of them, e.g. only GĐHT);
# - citizens recognised in titled communities = the citizens recognised that year with a
#   title awarded to citizens (CDHT) whose household, clan or village (Citizen.household /
#   .clan / .community) is one of those subjects;
# - staff of titled units = the five columns of each organisation's latest yearly headcount
#   (of a year up to that year) for the organisations recognised that year with a title
#   awarded to units (ĐVHT); citizens recognised in titled units = the CDHT citizens whose
#   workplace (Citizen.organization) is one of them.
#
# A person is counted once for each titled subject she belongs to, in the numerator as in
# the denominator: a CDHT citizen of a GĐHT household in a CĐHT village counts twice, as her
# household's and her village's working people do — the rate is that of the titled
# subjects' people taken together. A subject recognised with two titles of the same group
# counts once. Each measure takes one query per kind of subject (at most three).

_COMMUNITY_LINKS = {SubjectType.HOUSEHOLD: "household", SubjectType.CLAN: "clan", SubjectType.COMMUNITY: "community"}


class _GroupTitleChoices:
    """(code, name) of the learning titles awarded to some kinds of subject, read when listed."""

    def __init__(self, subject_types):
        self.subject_types = list(subject_types)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(
            list(
                TitleKind.objects.filter(subject_type__in=self.subject_types)
                .order_by("ordering", "name")
                .values_list("code", "name")
            )
        )


COMMUNITY_TITLE_FILTER = {"title": (_("Learning titles"), _GroupTitleChoices(_COMMUNITY_LINKS))}
UNIT_TITLE_FILTER = {"title": (_("Learning titles"), _GroupTitleChoices([SubjectType.UNIT]))}


def _titled(root: Branch, year: int, filters, subject_type: str) -> QuerySet:
    """The registrations recognised in `year` in `root`'s subtree of a chosen title awarded to
    `subject_type` (every such title when none is chosen)."""
    return (
        Registration.objects.order_by()
        .in_subtree(root)
        .filter(_title_q(filters), stage=Stage.RECOGNISED, year=year, kind__subject_type=subject_type)
    )


def _citizens_recognised(year: int) -> QuerySet:
    """Ids of the citizens recognised in `year` with a title awarded to citizens (CDHT)."""
    return (
        Registration.objects.order_by()
        .filter(stage=Stage.RECOGNISED, year=year, kind__subject_type=SubjectType.CITIZEN)
        .values("citizen_id")
    )


def _add(total: dict[int, int], rows) -> None:
    for branch_id, n in rows:
        if n:
            total[branch_id] = total.get(branch_id, 0) + n


def _citizens_through(titled: QuerySet, link: str, year: int) -> list[tuple[int, int]]:
    """{branch of the titled registration: CDHT citizens linked to its subject} as pairs: one
    query, from the titled registrations to the citizens that name their subject."""
    subjects = titled.values(link)
    citizens = (
        Citizen.objects.order_by()
        .filter(**{f"{link}_id__in": subjects}, pk__in=_citizens_recognised(year))
        .annotate(
            at=Subquery(titled.filter(**{link: OuterRef(f"{link}_id")}).order_by("branch_id").values("branch_id")[:1])
        )
        .values("at")
        .annotate(n=Count("id"))
        .values_list("at", "n")
    )
    return list(citizens)


def _group_types(filters, subject_types) -> list[str]:
    """The subject types of the chosen titles among `subject_types` (all of them when none chosen)."""
    codes = [code for code in filters.get("title") or () if isinstance(code, str)]
    if not codes:
        return list(subject_types)
    chosen = set(TitleKind.objects.filter(code__in=codes).values_list("subject_type", flat=True))
    return [kind for kind in subject_types if kind in chosen] or list(subject_types)


def _workers_in_titled_communities(*, root: Branch, start, end: datetime.date, filters) -> dict[int, int]:
    total: dict[int, int] = {}
    for subject_type in _group_types(filters, _COMMUNITY_LINKS):
        link = _COMMUNITY_LINKS[subject_type]
        # One per subject: the branch of its (first) recognised registration of the group.
        rows = (
            _titled(root, end.year, filters, subject_type)
            .values(link)
            .annotate(at=Min("branch_id"), people=Max(f"{link}__working_people"))
            .values_list("at", "people")
        )
        _add(total, rows)
    return total


def _citizens_in_titled_communities(*, root: Branch, start, end: datetime.date, filters) -> dict[int, int]:
    total: dict[int, int] = {}
    for subject_type in _group_types(filters, _COMMUNITY_LINKS):
        link = _COMMUNITY_LINKS[subject_type]
        _add(total, _citizens_through(_titled(root, end.year, filters, subject_type), link, end.year))
    return total


def _staff_of_titled_units(*, root: Branch, start, end: datetime.date, filters) -> dict[int, int]:
    latest_year = (
        OrganizationHeadcount.objects.order_by("-year")
        .filter(organization_id=OuterRef("organization_id"), year__lte=end.year)
        .values("year")[:1]
    )
    staff = Max(
        F("organization__headcounts__party_members")
        + F("organization__headcounts__cadres")
        + F("organization__headcounts__civil_servants")
        + F("organization__headcounts__public_employees")
        + F("organization__headcounts__workers"),
        output_field=IntegerField(),
    )
    # One per organisation, at the branch of its (first) recognised registration.
    per_unit = (
        _titled(root, end.year, filters, SubjectType.UNIT)
        .filter(organization__headcounts__year=Subquery(latest_year))
        .values("organization_id")
        .annotate(at=Min("branch_id"), people=staff)
        .values_list("at", "people")
    )
    total: dict[int, int] = {}
    _add(total, per_unit)
    return total


def _citizens_in_titled_units(*, root: Branch, start, end: datetime.date, filters) -> dict[int, int]:
    total: dict[int, int] = {}
    _add(total, _citizens_through(_titled(root, end.year, filters, SubjectType.UNIT), "organization", end.year))
    return total


_PEOPLE_NOTE = _(
    "For the year of the period's last day; counted once for each titled subject a person belongs to, at the "
    "branch where its title was recognised."
)

WORKERS_IN_TITLED_COMMUNITIES = Measure(
    code="learning.workers_in_titled_communities",
    label=_("Working people of learning households, clans and villages"),
    source=_(
        "Learning titles: people of working age of the households, clans and villages recognised in the year "
        "(households, clans and villages registers)"
    ),
    unit=Unit.PEOPLE,
    timing=Timing.AT_DATE,
    compute=_workers_in_titled_communities,
    filters=COMMUNITY_TITLE_FILTER,
    description=_PEOPLE_NOTE,
)
CITIZENS_IN_TITLED_COMMUNITIES = Measure(
    code="learning.citizens_recognised_in_titled_communities",
    label=_("Learning citizens of learning households, clans and villages"),
    source=_(
        "Learning titles: citizens recognised “Công dân học tập” in the year whose household, clan or village "
        "(entered on the citizen) was recognised in the year"
    ),
    unit=Unit.PEOPLE,
    timing=Timing.AT_DATE,
    compute=_citizens_in_titled_communities,
    filters=COMMUNITY_TITLE_FILTER,
    description=_PEOPLE_NOTE,
)
STAFF_OF_TITLED_UNITS = Measure(
    code="learning.staff_of_titled_units",
    label=_("Staff of learning units"),
    source=_(
        "Learning titles and the organisations register: the latest yearly headcount of the units recognised "
        "in the year"
    ),
    unit=Unit.PEOPLE,
    timing=Timing.AT_DATE,
    compute=_staff_of_titled_units,
    filters=UNIT_TITLE_FILTER,
    description=_PEOPLE_NOTE,
)
CITIZENS_IN_TITLED_UNITS = Measure(
    code="learning.citizens_recognised_in_titled_units",
    label=_("Learning citizens among the staff of learning units"),
    source=_(
        "Learning titles: citizens recognised “Công dân học tập” in the year whose workplace (entered on the "
        "citizen) was recognised in the year"
    ),
    unit=Unit.PEOPLE,
    timing=Timing.AT_DATE,
    compute=_citizens_in_titled_units,
    filters=UNIT_TITLE_FILTER,
    description=_PEOPLE_NOTE,
)

MEASURES = (
    ELIGIBLE,
    REGISTERED,
    EVALUATED,
    RECOGNISED,
    WORKERS_IN_TITLED_COMMUNITIES,
    CITIZENS_IN_TITLED_COMMUNITIES,
    STAFF_OF_TITLED_UNITS,
    CITIZENS_IN_TITLED_UNITS,
)


def measures_register() -> None:
    """Add the learning titles' measures to the catalogue; called from LearningConfig.ready()."""
    for measure in MEASURES:
        register(measure)
