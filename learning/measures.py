# ruff: noqa: S608 - the SQL below joins querysets compiled by Django and table names from model metadata; values are parameters.
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

Which map (`on_map`, khuyenhoc.measures): registrations, decisions and eligible totals stay
at the branch they were made at when a reorganisation dissolves it (reorganisation/
classification.py: KEPT), so they count there on either map; the catalogue places a
dissolved branch's figures on today's map (plans.catalogue). Only the organisations counted
as eligible for unit titles move with the apply: on the map in force (`IN_FORCE`, the
default) each counts at the branch it had on `end` (`associations.history.branch_on`, only
when a reorganisation took effect after `end`), on today's map (`TODAY`) at its branch today;
on both, an entered total covers the organisations that were under its branch on `end`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils.translation import gettext_lazy as _

from associations.history import branch_on, paths_on
from associations.models import Branch, Organization, OrganizationHeadcount, Reorganisation
from khuyenhoc.measures import IN_FORCE, Measure, Timing, Unit, register
from learning.figures import _active_in, _covered
from learning.models import (
    Citizen,
    Clan,
    Community,
    EligibleCount,
    Household,
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


class _Kind(NamedTuple):
    id: int
    subject_type: str
    active: bool
    registered: bool  # registered (not withdrawn) in the year asked, when asked
    moved_since: bool  # an applied reorganisation took effect after the day asked, when asked


def _kinds(
    filters: Mapping[str, list[str]],
    *,
    subject_types=None,
    registered_in: int | None = None,
    moved_after: datetime.date | None = None,
) -> list[_Kind]:
    """The chosen titles (among those awarded to `subject_types` when given): one query over
    the short table of titles. Unknown codes are ignored, and with no known code left every
    title counts. The measures then filter by these ids as literals, so PostgreSQL plans the
    registrations of one year and title on their figures index (year, kind, branch, stage)
    instead of a scan of every year's."""
    codes = {code for code in filters.get("title") or () if isinstance(code, str)}
    kinds = TitleKind.objects.order_by("pk")
    if subject_types is not None:
        kinds = kinds.filter(subject_type__in=list(subject_types))
    if registered_in is not None:
        kinds = kinds.annotate(
            registered=Exists(Registration.objects.counted().filter(kind=OuterRef("pk"), year=registered_in))
        )
    else:
        kinds = kinds.annotate(registered=Value(False))
    if moved_after is not None:  # uncorrelated: evaluated once, answered on every row
        kinds = kinds.annotate(
            moved_since=Exists(
                Reorganisation.objects.filter(status=Reorganisation.Status.APPLIED, effective_on__gt=moved_after)
            )
        )
    else:
        kinds = kinds.annotate(moved_since=Value(False))
    rows = list(kinds.values_list("code", "id", "subject_type", "active", "registered", "moved_since"))
    chosen = [_Kind(*row[1:]) for row in rows if row[0] in codes]
    return chosen or [_Kind(*row[1:]) for row in rows]


def _registrations(root: Branch, end: datetime.date, filters: Mapping[str, list[str]]) -> QuerySet:
    registrations = Registration.objects.counted().order_by().in_subtree(root).filter(year=end.year)
    if not any(isinstance(code, str) for code in filters.get("title") or ()):
        return registrations  # every title: no list of them needed
    return registrations.filter(kind_id__in=[kind.id for kind in _kinds(filters)])


def _by_branch(rows: QuerySet, figure) -> dict[int, int]:
    grouped = rows.values("branch_id").annotate(n=figure).values_list("branch_id", "n")
    return {branch_id: n for branch_id, n in grouped if n}


def _registered(*, root: Branch, start, end: datetime.date, filters, on_map: str = IN_FORCE) -> dict[int, int]:
    return _by_branch(_registrations(root, end, filters), Count("id"))


def _evaluated(*, root: Branch, start, end: datetime.date, filters, on_map: str = IN_FORCE) -> dict[int, int]:
    return _by_branch(_registrations(root, end, filters), Count("evaluation"))


def _recognised(*, root: Branch, start, end: datetime.date, filters, on_map: str = IN_FORCE) -> dict[int, int]:
    return _by_branch(_registrations(root, end, filters).filter(stage=Stage.RECOGNISED), Count("id"))


def _organizations_eligible(
    root: Branch, end: datetime.date, *, moved_since: bool, on_map: str
) -> list[tuple[int, str, str, int]]:
    """[(branch, its path, the path that decides coverage, organisations active in `end`'s
    year)] of `root`'s subtree. Each organisation counts at its branch today — or, on the
    map in force when an applied reorganisation took effect after `end`, at the branch it
    had on `end` (`associations.history.branch_on`; the subtree is then the organisations'
    branches on `end`). Whether an entered total covers it is always judged at the branch
    it had on `end`: on today's map the total entered at a dissolved commune goes to its
    successor, and the organisations it covered then must not be added to it a second
    time. One query, two when records moved since."""
    organizations = Organization.objects.order_by().filter(_active_in(end.year))
    if not moved_since:
        return [
            (branch_id, path, path, n)
            for branch_id, path, n in organizations.filter(branch__path__startswith=root.path)
            .values("branch_id", "branch__path")
            .annotate(n=Count("id"))
            .values_list("branch_id", "branch__path", "n")
        ]
    # Paths on `end`: a chapter re-hung since sits under the commune it had then.
    if on_map == IN_FORCE:
        counts = dict(
            organizations.annotate(owner=branch_on(end, "associations.organization"))
            .values("owner")
            .annotate(n=Count("id"))
            .values_list("owner", "n")
        )
        then = paths_on(end)
        return [
            (branch_id, then[branch_id], then[branch_id], n)
            for branch_id, n in counts.items()
            if branch_id in then and then[branch_id].startswith(root.path)
        ]
    pairs = list(
        organizations.filter(branch__path__startswith=root.path)
        .annotate(owner=branch_on(end, "associations.organization"))
        .values("branch_id", "branch__path", "owner")
        .annotate(n=Count("id"))
        .values_list("branch_id", "branch__path", "owner", "n")
    )
    then = paths_on(end)
    return [(branch_id, path, then.get(owner, path), n) for branch_id, path, owner, n in pairs]


def _eligible(*, root: Branch, start, end: datetime.date, filters, on_map: str = IN_FORCE) -> dict[int, int]:
    year = end.year
    steplen = Branch.steplen
    own: dict[int, int] = {}
    kinds = _kinds(filters, registered_in=year, moved_after=end)
    unit_kinds = [
        kind.id for kind in kinds if kind.subject_type == SubjectType.UNIT and (kind.active or kind.registered)
    ]

    # Totals entered in the subtree count there; those entered above `root` only cover it.
    above = [root.path[:end] for end in range(steplen, len(root.path), steplen)]
    entered = (
        EligibleCount.objects.order_by()
        .filter(kind_id__in=[kind.id for kind in kinds], year=year)
        .filter(Q(branch__path__startswith=root.path) | Q(branch__path__in=above))
        .values_list("branch_id", "branch__path", "kind_id", "count")
    )
    entered_paths: dict[int, set[str]] = {}
    for branch_id, path, kind_id, count in entered:
        entered_paths.setdefault(kind_id, set()).add(path)
        if path.startswith(root.path):
            own[branch_id] = own.get(branch_id, 0) + count

    if unit_kinds:
        moved_since = any(kind.moved_since for kind in kinds)
        for branch_id, _path, path_then, count in _organizations_eligible(
            root, end, moved_since=moved_since, on_map=on_map
        ):
            for kind_id in unit_kinds:
                if not _covered(path_then, entered_paths.get(kind_id, set()), steplen):
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
    dated=True,
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
    dated=True,
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
    dated=True,
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
    dated=True,
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


_SUBJECT_MODELS = {SubjectType.HOUSEHOLD: Household, SubjectType.CLAN: Clan, SubjectType.COMMUNITY: Community}


def _titled(root: Branch, year: int, kind_ids: list[int]) -> QuerySet:
    """The registrations recognised in `year` in `root`'s subtree of the titles `kind_ids`."""
    return (
        Registration.objects.order_by().in_subtree(root).filter(stage=Stage.RECOGNISED, year=year, kind_id__in=kind_ids)
    )


def _subjects(titled: QuerySet, link: str, *, once: bool) -> tuple[str, list]:
    """SQL of one row per titled subject and title, (subject, at): the subject's id and the
    branch of its recognised registration. `once`: the group has several titles for this
    kind of subject, so a subject recognised with two of them counts once, at the branch of
    its first registration (a GROUP BY per subject); with one title a subject has at most
    one registration a year (registration_once_per_*_title_year) and no grouping is needed."""
    rows = titled.annotate(subject=F(f"{link}_id"))
    rows = rows.values("subject").annotate(at=Min("branch_id")) if once else rows.annotate(at=F("branch_id"))
    sql, params = rows.values_list("subject", "at").query.sql_with_params()
    return sql, list(params)


def _citizens_recognised(year: int, citizen_kinds: list[int]) -> QuerySet:
    """Ids of the citizens recognised in `year` with a title awarded to citizens (CDHT), the
    titles given by id (read on the registrations' figures index)."""
    return (
        Registration.objects.order_by()
        .filter(stage=Stage.RECOGNISED, year=year, kind_id__in=citizen_kinds)
        .values("citizen_id")
    )


def _grouped(parts: list[tuple[str, list]]) -> dict[int, int]:
    """{branch: figure} of the UNION ALL of `parts` (each SELECT answering (at, figure) rows
    grouped by `at`), added up by branch: one query, a row per branch and part."""
    if not parts:
        return {}
    sql = " UNION ALL ".join(f"SELECT * FROM ({part}) p{index}" for index, (part, _params) in enumerate(parts))
    params = [param for _part, part_params in parts for param in part_params]
    total: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for branch_id, n in cursor.fetchall():
            if n:
                total[branch_id] = total.get(branch_id, 0) + int(n)
    return total


def _by_subject_type(filters, subject_types) -> tuple[dict[str, list[int]], list[int]]:
    """({subject type: ids of the chosen titles awarded to it} (every title of
    `subject_types` when none of them is chosen), ids of the titles awarded to citizens):
    one query."""
    codes = {code for code in filters.get("title") or () if isinstance(code, str)}
    rows = list(
        TitleKind.objects.order_by("pk")
        .filter(subject_type__in=[*subject_types, SubjectType.CITIZEN])
        .values_list("id", "code", "subject_type")
    )
    group = [row for row in rows if row[2] in subject_types]
    chosen: dict[str, list[int]] = {}
    for kind_id, _code, subject_type in [row for row in group if row[1] in codes] or group:
        chosen.setdefault(subject_type, []).append(kind_id)
    return chosen, [kind_id for kind_id, _code, subject_type in rows if subject_type == SubjectType.CITIZEN]


def _citizens_through(
    root: Branch, year: int, kind_ids: list[int], link: str, citizen_kinds: list[int]
) -> tuple[str, list]:
    """SQL of (branch of the titled registration, CDHT citizens linked to its subject), grouped
    by branch: the titled subjects joined to the citizens that name them."""
    subjects, subject_params = _subjects(_titled(root, year, kind_ids), link, once=len(kind_ids) > 1)
    recognised, recognised_params = _citizens_recognised(year, citizen_kinds).query.sql_with_params()
    citizen = Citizen._meta.db_table
    return (
        f"""SELECT s.at, COUNT(*) FROM ({subjects}) s
            JOIN {citizen} c ON c.{link}_id = s.subject
            WHERE c.id IN ({recognised}) GROUP BY s.at""",
        [*subject_params, *recognised_params],
    )


def _workers_in_titled_communities(*, root: Branch, start, end: datetime.date, filters, on_map: str = IN_FORCE):
    parts = []
    for subject_type, kind_ids in _by_subject_type(filters, _COMMUNITY_LINKS)[0].items():
        link = _COMMUNITY_LINKS[subject_type]
        subjects, params = _subjects(_titled(root, end.year, kind_ids), link, once=len(kind_ids) > 1)
        table = _SUBJECT_MODELS[subject_type]._meta.db_table
        parts.append(
            (
                f"SELECT s.at, SUM(t.working_people) FROM ({subjects}) s JOIN {table} t ON t.id = s.subject "
                "GROUP BY s.at",
                params,
            )
        )
    return _grouped(parts)


def _citizens_in_titled_communities(*, root: Branch, start, end: datetime.date, filters, on_map: str = IN_FORCE):
    by_type, citizen_kinds = _by_subject_type(filters, _COMMUNITY_LINKS)
    return _grouped(
        [
            _citizens_through(root, end.year, kind_ids, _COMMUNITY_LINKS[subject_type], citizen_kinds)
            for subject_type, kind_ids in by_type.items()
        ]
    )


def _staff_of_titled_units(*, root: Branch, start, end: datetime.date, filters, on_map: str = IN_FORCE):
    kind_ids = _by_subject_type(filters, [SubjectType.UNIT])[0].get(SubjectType.UNIT, [])
    latest_year = (
        OrganizationHeadcount.objects.order_by("-year")
        .filter(organization_id=OuterRef("organization_id"), year__lte=end.year)
        .values("year")[:1]
    )
    staff = F("party_members") + F("cadres") + F("civil_servants") + F("public_employees") + F("workers")
    headcounts = OrganizationHeadcount.objects.order_by().filter(
        organization_id=OuterRef("subject"), year=Subquery(latest_year)
    )
    people = Subquery(headcounts.annotate(people=staff).values("people")[:1], output_field=IntegerField())
    # One per organisation, at the branch of its (first) recognised registration.
    per_unit = (
        _titled(root, end.year, kind_ids)
        .annotate(subject=F("organization_id"))
        .values("subject")
        .annotate(at=Min("branch_id"))
        .annotate(people=people)
        .values_list("at", "people")
    )
    sql, params = per_unit.query.sql_with_params()
    return _grouped([(f"SELECT u.at, SUM(u.people) FROM ({sql}) u GROUP BY u.at", list(params))])


def _citizens_in_titled_units(*, root: Branch, start, end: datetime.date, filters, on_map: str = IN_FORCE):
    by_type, citizen_kinds = _by_subject_type(filters, [SubjectType.UNIT])
    return _grouped(
        [_citizens_through(root, end.year, by_type.get(SubjectType.UNIT, []), "organization", citizen_kinds)]
    )


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
    dated=True,
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
    dated=True,
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
    dated=True,
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
    dated=True,
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
