"""The registry's measures in the catalogue (khuyenhoc.measures): members, chapters, boards,
organisations, and the two pairs behind Plan 99/KH-KHHN's indicators.

Each `compute` answers {branch id: own figure} for `root`'s subtree in one query, keyed by
the branch the records belong to; the reader rolls the figures up the tree with
`associations.rollup.roll_up_by_path`. Filters left empty count everything; unknown values
are dropped (`khuyenhoc.measures.clean_filters`), so a filter of only unknown values counts
everything too.

Plan 99's two indicators (plans/indicators.py) are two ratios of these measures, each rolled
up from the target's root branch, at the date D (`end`):

- board coverage = `registry.organizations_with_board` / `registry.organizations`, both with
  `kinds` = the target's organisation kinds: the organisations of those kinds active on D
  that have a board or chapter established on D, over all those organisations active on D,
  counted at the organisation's own branch (not where its board sits);
- membership = `registry.plan_members` / `registry.headcount`, both with `categories` = the
  target's member categories and `kinds` = its organisation kinds (none: every kind): the
  members of those categories active on D, counted at their organisation's branch (a member
  with no organisation counts nowhere), over the same categories' columns of each
  organisation's latest yearly headcount of a year ≤ D's year (every organisation, active or
  not, as the plan's text says).

tests/plans/test_measures_plan99.py checks that both ratios equal `indicators_compute` for
every branch and every year-end of the plan on the small generated city.

Rules decided where the text is silent:
- A member counts at their own branch for `registry.members` and `registry.members_new`
  (the register they are on), but at their organisation's branch for `registry.plan_members`
  (where Plan 99 counts them, against that organisation's headcount).
- Chapters and boards are counted at their parent branch (normally the commune that set them
  up), not at themselves: a commune's own figure is "the boards it has", and the figures roll
  up to the district and the city like any other. A board or chapter with no founding date
  counts as established; one dissolved on D no longer counts (as `Branch.active_on`).
- `registry.plan_members` and `registry.headcount` accept only the five categories a yearly
  headcount has a column for; none chosen means all five.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.db.models import Count, Exists, F, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Left
from django.utils.translation import gettext_lazy as _

from associations.models import (
    PLAN_MEMBER_CATEGORIES,
    Branch,
    BranchLevel,
    Member,
    MemberCategory,
    Organization,
    OrganizationHeadcount,
    OrganizationKind,
)
from khuyenhoc.measures import Measure, Timing, Unit, clean_filters, register

KINDS_FILTER = {"kinds": (_("Organisation kinds"), OrganizationKind.choices)}
CATEGORIES_FILTER = {"categories": (_("Member categories"), MemberCategory.choices)}
PLAN_CATEGORIES_FILTER = {
    "categories": (
        _("Member categories"),
        [(value, label) for value, label in MemberCategory.choices if value in PLAN_MEMBER_CATEGORIES],
    )
}


def _pairs(rows: QuerySet) -> dict[int, int]:
    return {branch_id: figure for branch_id, figure in rows if figure}


def _members(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    categories = clean_filters(MEMBERS, filters).get("categories")
    rows = Member.objects.order_by().in_subtree(root).active_on(end)
    if categories:
        rows = rows.filter(category__in=categories)
    return _pairs(rows.values("branch_id").annotate(n=Count("id")).values_list("branch_id", "n"))


def _members_new(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    categories = clean_filters(MEMBERS_NEW, filters).get("categories")
    rows = Member.objects.order_by().in_subtree(root).filter(joined_on__lte=end)
    if start is not None:
        rows = rows.filter(joined_on__gte=start)
    if categories:
        rows = rows.filter(category__in=categories)
    return _pairs(rows.values("branch_id").annotate(n=Count("id")).values_list("branch_id", "n"))


def _units_by_parent(level: str, *, root: Branch, end: datetime.date) -> dict[int, int]:
    """Chapters or boards active on `end`, counted at their parent branch (one query: the
    parent is found by the path one step shorter, through the unique path index)."""
    parent = Branch.objects.order_by().filter(path=Left(OuterRef("path"), (OuterRef("depth") - 1) * Branch.steplen))
    rows = (
        Branch.objects.order_by()
        .filter(path__startswith=root.path, depth__gt=root.depth, level=level)
        .active_on(end)
        .annotate(parent_id=Subquery(parent.values("id")[:1]))
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
    )
    return _pairs(rows)


def _chapters(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    return _units_by_parent(BranchLevel.CHAPTER, root=root, end=end)


def _boards(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    return _units_by_parent(BranchLevel.BOARD, root=root, end=end)


def _organizations_on(root: Branch, end: datetime.date, kinds: list[str] | None) -> QuerySet:
    rows = Organization.objects.order_by().in_subtree(root).active_on(end)
    return rows.filter(kind__in=kinds) if kinds else rows


def _organizations(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    kinds = clean_filters(ORGANIZATIONS, filters).get("kinds")
    rows = _organizations_on(root, end, kinds)
    return _pairs(rows.values("branch_id").annotate(n=Count("id")).values_list("branch_id", "n"))


def _organizations_with_board(
    *, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]
) -> dict[int, int]:
    kinds = clean_filters(ORGANIZATIONS_WITH_BOARD, filters).get("kinds")
    established_board = Exists(
        Branch.objects.order_by()
        .filter(organization_id=OuterRef("pk"), level__in=[BranchLevel.BOARD, BranchLevel.CHAPTER])
        .active_on(end)
    )
    rows = _organizations_on(root, end, kinds).filter(established_board)
    return _pairs(rows.values("branch_id").annotate(n=Count("id")).values_list("branch_id", "n"))


def _plan_scope(measure: Measure, filters: Mapping[str, list[str]]) -> tuple[list[str], list[str] | None]:
    cleaned = clean_filters(measure, filters)
    return cleaned.get("categories") or list(PLAN_MEMBER_CATEGORIES), cleaned.get("kinds")


def _plan_members(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    categories, kinds = _plan_scope(PLAN_MEMBERS, filters)
    rows = (
        Member.objects.order_by()
        .active_on(end)
        .filter(category__in=categories, organization__branch__path__startswith=root.path)
    )
    if kinds:
        rows = rows.filter(organization__kind__in=kinds)
    return _pairs(
        rows.values("organization__branch_id").annotate(n=Count("id")).values_list("organization__branch_id", "n")
    )


def _headcount(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    categories, kinds = _plan_scope(HEADCOUNT, filters)
    rows = OrganizationHeadcount.objects.order_by().filter(organization__branch__path__startswith=root.path)
    if kinds:
        rows = rows.filter(organization__kind__in=kinds)
    latest_year = (
        OrganizationHeadcount.objects.order_by("-year")
        .filter(organization_id=OuterRef("organization_id"), year__lte=end.year)
        .values("year")[:1]
    )
    columns = [PLAN_MEMBER_CATEGORIES[category] for category in categories]
    people = F(columns[0])
    for column in columns[1:]:
        people = people + F(column)
    return _pairs(
        rows.filter(year=Subquery(latest_year))
        .values("organization__branch_id")
        .annotate(n=Sum(people, output_field=IntegerField()))
        .values_list("organization__branch_id", "n")
    )


MEMBERS = Measure(
    code="registry.members",
    label=_("Members"),
    source=_("Members register: members on the register on the day"),
    unit=Unit.PEOPLE,
    timing=Timing.AT_DATE,
    compute=_members,
    filters=CATEGORIES_FILTER,
    description=_("Counted at the branch whose register the member is on."),
)
MEMBERS_NEW = Measure(
    code="registry.members_new",
    label=_("New members"),
    source=_("Members register: members who joined in the period"),
    unit=Unit.PEOPLE,
    timing=Timing.OVER_PERIOD,
    compute=_members_new,
    filters=CATEGORIES_FILTER,
    description=_("Counted at the branch whose register the member is on, whether or not they have left since."),
)
CHAPTERS = Measure(
    code="registry.chapters",
    label=_("Chapters"),
    source=_("Association tree: chapters established on the day"),
    unit=Unit.COUNT,
    timing=Timing.AT_DATE,
    compute=_chapters,
    description=_("Counted at the branch the chapter belongs to."),
)
BOARDS = Measure(
    code="registry.boards",
    label=_("Learning-promotion boards"),
    source=_("Association tree: boards established on the day"),
    unit=Unit.COUNT,
    timing=Timing.AT_DATE,
    compute=_boards,
    description=_("Counted at the branch the board belongs to."),
)
ORGANIZATIONS = Measure(
    code="registry.organizations",
    label=_("Organisations"),
    source=_("Organisations register: organisations active on the day"),
    unit=Unit.COUNT,
    timing=Timing.AT_DATE,
    compute=_organizations,
    filters=KINDS_FILTER,
)
ORGANIZATIONS_WITH_BOARD = Measure(
    code="registry.organizations_with_board",
    label=_("Organisations with a board or chapter"),
    source=_("Organisations register and association tree: a board or chapter established on the day"),
    unit=Unit.COUNT,
    timing=Timing.AT_DATE,
    compute=_organizations_with_board,
    filters=KINDS_FILTER,
    description=_("Counted where the organisation is, not where its board sits (Plan 99's board coverage)."),
)
PLAN_MEMBERS = Measure(
    code="registry.plan_members",
    label=_("Members among the organisations' staff"),
    source=_("Members register: members on the day, at their workplace"),
    unit=Unit.PEOPLE,
    timing=Timing.AT_DATE,
    compute=_plan_members,
    filters={**PLAN_CATEGORIES_FILTER, **KINDS_FILTER},
    description=_(
        "Party members, cadres, civil servants, public employees and workers who are members, counted at "
        "their organisation's branch; a member with no workplace counts nowhere (Plan 99's membership)."
    ),
)
HEADCOUNT = Measure(
    code="registry.headcount",
    label=_("Organisations' staff"),
    source=_("Yearly headcounts: the latest headcount of a year up to the day's year"),
    unit=Unit.PEOPLE,
    timing=Timing.AT_DATE,
    compute=_headcount,
    filters={**PLAN_CATEGORIES_FILTER, **KINDS_FILTER},
    description=_("Every organisation's latest yearly headcount, active or not (the base of Plan 99's membership)."),
)

MEASURES = (
    MEMBERS,
    MEMBERS_NEW,
    CHAPTERS,
    BOARDS,
    ORGANIZATIONS,
    ORGANIZATIONS_WITH_BOARD,
    PLAN_MEMBERS,
    HEADCOUNT,
)


def measures_register() -> None:
    """Add the registry's measures to the catalogue; called from AssociationsConfig.ready()."""
    for measure in MEASURES:
        register(measure)
