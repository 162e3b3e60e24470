"""The two headline indicators (defined in docs/ARCHITECTURE.md, section "Indicators"), for every
branch of a target's subtree at once.

`indicators_compute(target=, as_of=)` answers {branch id: (numerator, denominator)} for the
target's root branch and every branch below it, each figure counting that branch's whole
subtree. It runs a fixed handful of set-based queries whatever the size of the tree:

1. the branches of the subtree (id, path): ~10 000 short rows, the tree not a data table;
2. board coverage: one GROUP BY over organisations, with an EXISTS for a board/chapter;
   membership: one GROUP BY over members and one over the latest headcounts;

then adds each branch's own counts to all its ancestors in Python (the roll-up), by path
prefix, so no query runs per branch.

Rules decided where the text is silent:
- A board or chapter with no founding date counts as established (the date is unknown, not
  in the future); one dissolved on D no longer counts (dissolved_on > D keeps it).
- An organisation is "in the subtree" when its own branch is; it is counted there, not where
  its board sits. A member counts where their organisation is; a member with no organisation
  does not count (the denominator has no headcount for them).
- The membership denominator sums, over every organisation of the subtree (active or not,
  as the text says), the scope categories' columns of the latest headcount of a year ≤ D's
  year; an organisation with no such headcount adds nothing. A membership target with
  organisation kinds in its scope counts only those kinds, numerator and denominator alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import ExtractYear

from associations.models import (
    PLAN_MEMBER_CATEGORIES,
    Branch,
    BranchLevel,
    Member,
    Organization,
    OrganizationHeadcount,
)
from associations.rollup import figures_store, roll_up_by_path
from funds.models import Donation
from plans.models import Indicator, IndicatorValue, MoneyYearTotal, ScholarshipYearTotal, Target
from scholarships.models import Award

Counts = dict[int, tuple[int, int]]


def _board_coverage_per_branch(*, root: Branch, kinds: list[str], as_of: datetime.date) -> Counts:
    established_board = Exists(
        Branch.objects.order_by()
        .filter(organization_id=OuterRef("pk"), level__in=[BranchLevel.BOARD, BranchLevel.CHAPTER])
        .active_on(as_of)
    )
    rows = (
        Organization.objects.order_by()
        .filter(branch__path__startswith=root.path, kind__in=kinds)
        .active_on(as_of)
        .values("branch_id")
        .annotate(
            denominator=Count("id"),
            numerator=Sum(Case(When(established_board, then=Value(1)), default=Value(0), output_field=IntegerField())),
        )
        .values_list("branch_id", "numerator", "denominator")
    )
    return {branch_id: (numerator or 0, denominator) for branch_id, numerator, denominator in rows}


def _membership_per_branch(*, root: Branch, categories: list[str], kinds: list[str], as_of: datetime.date) -> Counts:
    members = (
        Member.objects.order_by()
        .active_on(as_of)
        .filter(category__in=categories, organization__branch__path__startswith=root.path)
    )
    headcounts = OrganizationHeadcount.objects.order_by().filter(organization__branch__path__startswith=root.path)
    if kinds:
        members = members.filter(organization__kind__in=kinds)
        headcounts = headcounts.filter(organization__kind__in=kinds)

    numerators = (
        members.values("organization__branch_id").annotate(n=Count("id")).values_list("organization__branch_id", "n")
    )

    latest_year = (
        OrganizationHeadcount.objects.order_by("-year")
        .filter(organization_id=OuterRef("organization_id"), year__lte=as_of.year)
        .values("year")[:1]
    )
    columns = [PLAN_MEMBER_CATEGORIES[category] for category in categories]
    people = F(columns[0])
    for column in columns[1:]:
        people = people + F(column)
    denominators = (
        headcounts.filter(year=Subquery(latest_year))
        .values("organization__branch_id")
        .annotate(d=Sum(people, output_field=IntegerField()))
        .values_list("organization__branch_id", "d")
    )

    counts: dict[int, list[int]] = {}
    for branch_id, n in numerators:
        counts.setdefault(branch_id, [0, 0])[0] += n
    for branch_id, d in denominators:
        counts.setdefault(branch_id, [0, 0])[1] += d or 0
    return {branch_id: (n, d) for branch_id, (n, d) in counts.items()}


def _roll_up(branches: Iterable[tuple[int, str]], own: Counts, *, root: Branch) -> Counts:
    """Add each branch's own counts to itself and every ancestor down from `root`."""
    steplen = Branch.steplen
    totals: dict[str, list[int]] = {}
    path_of: dict[int, str] = {}
    for branch_id, path in branches:
        path_of[branch_id] = path
        totals[path] = [0, 0]
    root_depth = len(root.path) // steplen
    for branch_id, (numerator, denominator) in own.items():
        path = path_of.get(branch_id)
        if path is None:  # not in the subtree (cannot happen: every query filters by path)
            continue
        for depth in range(root_depth, len(path) // steplen + 1):
            total = totals[path[: depth * steplen]]
            total[0] += numerator
            total[1] += denominator
    return {branch_id: tuple(totals[path]) for branch_id, path in path_of.items()}


def indicators_compute(*, target: Target, as_of: datetime.date) -> Counts:
    """{branch id: (numerator, denominator)} for every branch of the target's subtree on `as_of`."""
    root = target.root_branch
    branches = Branch.objects.order_by().filter(path__startswith=root.path).values_list("id", "path")
    if target.indicator == Indicator.BOARD_COVERAGE:
        own = _board_coverage_per_branch(root=root, kinds=target.scope_kinds, as_of=as_of)
    elif target.indicator == Indicator.CADRE_MEMBERSHIP:
        own = _membership_per_branch(
            root=root, categories=target.scope_categories, kinds=target.scope_kinds, as_of=as_of
        )
    else:  # pragma: no cover - the database refuses other values
        raise ValueError(f"unknown indicator {target.indicator!r}")
    return _roll_up(branches, own, root=root)


def target_as_of_dates(target: Target, *, today: datetime.date) -> list[datetime.date]:
    """The dates stored for a target: the end of each plan year so far, the deadline once
    reached, today, and a year before today (the pace of the last 12 months)."""
    dates = {day for day in target.plan.year_ends() if day <= today}
    if target.deadline <= today:
        dates.add(target.deadline)
    dates.add(today)
    try:
        dates.add(today.replace(year=today.year - 1))
    except ValueError:  # 29 February
        dates.add(today.replace(year=today.year - 1, day=28))
    return sorted(dates)


def indicator_values_store(
    *, target: Target, as_of: datetime.date, values: Counts, computed_at: datetime.datetime
) -> int:
    """Upsert one target's values on one date."""
    rows = [
        IndicatorValue(
            target=target,
            branch_id=branch_id,
            as_of=as_of,
            numerator=numerator,
            denominator=denominator,
            computed_at=computed_at,
        )
        for branch_id, (numerator, denominator) in values.items()
    ]
    IndicatorValue.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["target", "branch", "as_of"],
        update_fields=["numerator", "denominator", "computed_at"],
    )
    return len(rows)


def _forget_stale_values(*, target: Target, dates: list[datetime.date]) -> None:
    """Drop the dates no longer stored and the branches that left the target's subtree.

    One uncorrelated `branch_id IN (SELECT id FROM branch …)` per target: a join inside the
    DELETE would make Django wrap it in `id IN (…)`, which PostgreSQL may plan as a nested
    loop over freshly written, not yet analysed rows.
    """
    IndicatorValue.objects.filter(target=target).exclude(as_of__in=dates).delete()
    outside = Branch.objects.order_by().exclude(path__startswith=target.root_branch.path).values("id")
    IndicatorValue.objects.filter(target=target, branch_id__in=outside).delete()


def target_recompute(*, target: Target, today: datetime.date, computed_at: datetime.datetime) -> int:
    """Compute and store every date of one target in one transaction, so a dashboard never
    reads half of a target's run; drop the dates no longer stored (e.g. yesterday's "today")."""
    dates = target_as_of_dates(target, today=today)
    written = 0
    with transaction.atomic():
        for as_of in dates:
            written += indicator_values_store(
                target=target,
                as_of=as_of,
                values=indicators_compute(target=target, as_of=as_of),
                computed_at=computed_at,
            )
        _forget_stale_values(target=target, dates=dates)
    return written


# --- The dashboard's money and scholarship panels -------------------------------------------
# Stored per branch and year like the indicator values, so the dashboard reads a few dozen
# rows instead of summing every donation and award of the subtree on each request. Two
# GROUP BY queries over the raw rows (per owning branch, year and fund model / per owning
# branch and year), then the same roll-up by path prefix as the indicators, over every tree.
Totals = dict[tuple, tuple[int, int]]


def _roll_up_keyed(own: Totals) -> Totals:
    """{(branch id, *key): (a, b)} of each branch's own rows → the same for each branch's
    whole subtree (its own rows plus every branch below it), every root at once."""
    return roll_up_by_path(own)


def money_year_totals_compute() -> Totals:
    """{(branch id, year, fund model id): (amount, donations)} over each branch's subtree:
    valid donations by the year they were received, as funds/reports.py counts them."""
    rows = (
        Donation.objects.valid()
        .order_by()
        .annotate(year=ExtractYear("received_on"))
        .values("fund__branch_id", "year", "fund__fund_model_id")
        .annotate(amount=Sum("amount"), donations=Count("id"))
        .values_list("fund__branch_id", "year", "fund__fund_model_id", "amount", "donations")
    )
    return _roll_up_keyed({(b, y, m): (amount or 0, n) for b, y, m, amount, n in rows})


def scholarship_year_totals_compute() -> Totals:
    """{(branch id, year): (turns, amount)} over each branch's subtree: valid awards by the
    year they were paid, as scholarships/reports.py counts them (one award is one turn)."""
    rows = (
        Award.objects.valid()
        .order_by()
        .annotate(year=ExtractYear("paid_on"))
        .values("round__branch_id", "year")
        .annotate(turns=Count("id"), amount=Sum("amount"))
        .values_list("round__branch_id", "year", "turns", "amount")
    )
    return _roll_up_keyed({(b, y): (turns, amount or 0) for b, y, turns, amount in rows})


def panel_totals_recompute() -> int:
    """Compute and store both panels' yearly totals for every branch in one transaction, so
    a dashboard never reads half of a run; answers the number of rows written or deleted."""
    with transaction.atomic():
        written = figures_store(
            MoneyYearTotal,
            keys=["branch_id", "year", "fund_model_id"],
            values=["amount", "donations"],
            totals=money_year_totals_compute(),
        )
        written += figures_store(
            ScholarshipYearTotal,
            keys=["branch_id", "year"],
            values=["turns", "amount"],
            totals=scholarship_year_totals_compute(),
        )
    return written
