"""The two headline indicators (defined in docs/ARCHITECTURE.md, section "Indicators"), for every
branch of a target's subtree at once.

`indicators_compute(target=, as_of=)` answers {branch id: (numerator, denominator)} for the
target's root branch and every branch below it, each figure counting that branch's whole
subtree. It runs a fixed handful of set-based queries whatever the size of the tree:

1. the tree in force on the day (id, path; `associations.history.paths_on`): ~40 000 short
   rows, the tree not a data table;
2. board coverage: one GROUP BY over organisations, with an EXISTS for a board/chapter;
   membership: one GROUP BY over members and one over the latest headcounts; each record
   grouped by the branch it was on that day (`associations.history.branch_on`);

then adds each branch's own counts to all its ancestors in Python (the roll-up), by path
prefix, so no query runs per branch.

History on either map (issue 11): `indicators_compute` counts on the map in force on the
day, so a value for 31/12/2019 is the same before and after a reorganisation;
`indicators_compute_on_todays_map` counts the same day on today's map (records under the
branch they went to; a split unit's records kept apart as "From split units"). The
recompute stores both for the days before the latest reorganisation.

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

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractYear

from associations.history import branch_on, last_reorganisation_day, todays_tree, tree_and_changes_on
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
from khuyenhoc.bulk import upsert_unnest
from plans.models import Indicator, IndicatorValue, MoneyYearTotal, OnDemandDate, OnMap, ScholarshipYearTotal, Target
from scholarships.models import Award

Counts = dict[int, tuple[int, int]]


ORGANIZATION = "associations.organization"


def _board_coverage_per_branch(*, kinds: list[str], as_of: datetime.date, owner, within: list[int] | None) -> Counts:
    """{owning branch id: (numerator, denominator)}; `owner` is the expression of an
    organisation's branch (its branch on the day, or today's), `within` the branch ids kept
    (None: every one)."""
    established_board = Exists(
        Branch.objects.order_by()
        .filter(organization_id=OuterRef("pk"), level__in=[BranchLevel.BOARD, BranchLevel.CHAPTER])
        .active_on(as_of)
    )
    rows = Organization.objects.order_by().filter(kind__in=kinds).active_on(as_of).annotate(owner=owner)
    if within is not None:
        rows = rows.filter(owner__in=within)
    rows = (
        rows.values("owner")
        .annotate(
            denominator=Count("id"),
            numerator=Sum(Case(When(established_board, then=Value(1)), default=Value(0), output_field=IntegerField())),
        )
        .values_list("owner", "numerator", "denominator")
    )
    return {branch_id: (numerator or 0, denominator) for branch_id, numerator, denominator in rows}


def _membership_per_branch(
    *,
    categories: list[str],
    kinds: list[str],
    as_of: datetime.date,
    organization_owner,
    within: list[int] | None,
) -> Counts:
    """Like `_board_coverage_per_branch`, `organization_owner` being the expression of an
    organisation's owning branch.

    One query over the organisations: each one's members in scope on `as_of` (a subquery
    served by the member's organisation index) and its latest headcount up to that year (one
    probe of the headcount's (organisation, year) index), summed per owning branch. The
    owner, a subquery per row when organisations moved after `as_of`
    (`associations.history.branch_on`), is so evaluated once per organisation — not once
    per member (a million at full size) nor once per headcount year."""
    members = Member.objects.order_by().active_on(as_of).filter(category__in=categories)
    organizations = Organization.objects.order_by().annotate(owner=organization_owner)
    if within is not None:
        organizations = organizations.filter(owner__in=within)
    if kinds:
        organizations = organizations.filter(kind__in=kinds)

    per_organization = (
        members.filter(organization_id=OuterRef("pk")).values("organization_id").annotate(n=Count("id")).values("n")
    )
    columns = [PLAN_MEMBER_CATEGORIES[category] for category in categories]
    people = F(columns[0])
    for column in columns[1:]:
        people = people + F(column)
    latest_people = (
        OrganizationHeadcount.objects.order_by("-year")
        .filter(organization_id=OuterRef("pk"), year__lte=as_of.year)
        .annotate(people=ExpressionWrapper(people, output_field=IntegerField()))
        .values("people")[:1]
    )
    rows = (
        organizations.annotate(
            in_scope=Subquery(per_organization, output_field=IntegerField()),
            people=Subquery(latest_people, output_field=IntegerField()),
        )
        .values("owner")
        .annotate(numerator=Sum("in_scope"), denominator=Sum("people"))
        .values_list("owner", "numerator", "denominator")
    )
    # An owner whose organisations have neither such a member nor a headcount: as if not grouped.
    return {
        branch_id: (numerator or 0, denominator or 0)
        for branch_id, numerator, denominator in rows
        if numerator or denominator is not None
    }


def _own_counts(target: Target, *, as_of: datetime.date, owner, within: list[int] | None) -> Counts:
    """Each owning branch's own counts; `owner` is the expression of an organisation's
    owning branch."""
    if target.indicator == Indicator.BOARD_COVERAGE:
        return _board_coverage_per_branch(kinds=target.scope_kinds, as_of=as_of, owner=owner, within=within)
    if target.indicator == Indicator.CADRE_MEMBERSHIP:
        return _membership_per_branch(
            categories=target.scope_categories,
            kinds=target.scope_kinds,
            as_of=as_of,
            organization_owner=owner,
            within=within,
        )
    raise ValueError(f"unknown indicator {target.indicator!r}")  # pragma: no cover - the database refuses others


def _roll_up(branches: Iterable[tuple[int, str]], own: Counts, *, root_path: str) -> Counts:
    """Add each branch's own counts to itself and every ancestor down from the root."""
    steplen = Branch.steplen
    totals: dict[str, list[int]] = {}
    path_of: dict[int, str] = {}
    for branch_id, path in branches:
        path_of[branch_id] = path
        totals[path] = [0, 0]
    root_depth = len(root_path) // steplen
    for branch_id, (numerator, denominator) in own.items():
        path = path_of.get(branch_id)
        if path is None:  # not in the subtree on that day
            continue
        for depth in range(root_depth, len(path) // steplen + 1):
            total = totals[path[: depth * steplen]]
            total[0] += numerator
            total[1] += denominator
    return {branch_id: tuple(totals[path]) for branch_id, path in path_of.items()}


def _subtree(path_of: dict[int, str], root_path: str) -> list[tuple[int, str]]:
    return [(branch_id, path) for branch_id, path in path_of.items() if path.startswith(root_path)]


def indicators_compute(*, target: Target, as_of: datetime.date) -> Counts:
    """{branch id: (numerator, denominator)} of the target's subtree on `as_of`; see
    `indicators_compute_with_tree`."""
    return indicators_compute_with_tree(target=target, as_of=as_of)[0]


def indicators_compute_with_tree(
    *, target: Target, as_of: datetime.date, tree: tuple[dict[int, str], bool] | None = None
) -> tuple[Counts, dict[int, str], bool]:
    """(values, {branch id: path} of the tree in force on `as_of`, whether a reorganisation
    took effect after `as_of`). The values are {branch id: (numerator, denominator)} for
    every branch of the target's subtree on `as_of`, on the map in force that day: each
    record counted where it was on `as_of` (`associations.history.branch_on`) and rolled up
    the tree as it stood (`associations.history.paths_on`); branches not in force on
    `as_of` have no value.
    A day on or after the latest reorganisation groups by the foreign keys themselves (no
    record moved since), as before any reorganisation. `tree`: `tree_and_changes_on(as_of)`
    when the caller has it already."""
    root = target.root_branch
    path_of, moved_since = tree or tree_and_changes_on(as_of)
    root_path = path_of.get(root.pk)
    if root_path is None:
        return {}, path_of, moved_since
    branches = _subtree(path_of, root_path)
    # The whole tree needs no filter; a smaller root keeps the branches under it that day.
    within = None if len(branches) == len(path_of) else [branch_id for branch_id, _path in branches]

    owner = branch_on(as_of, ORGANIZATION) if moved_since else F("branch_id")
    own = _own_counts(target, as_of=as_of, owner=owner, within=within)
    return _roll_up(branches, own, root_path=root_path), path_of, moved_since


def indicators_compute_on_todays_map(
    *, target: Target, as_of: datetime.date, today: datetime.date
) -> tuple[Counts, Counts]:
    """(values, split lines) of the target's subtree on `as_of`, counted on today's map; see
    `indicators_compute_on_todays_map_with_tree`."""
    values, splits, _paths = indicators_compute_on_todays_map_with_tree(target=target, as_of=as_of, today=today)
    return values, splits


def indicators_compute_on_todays_map_with_tree(
    *, target: Target, as_of: datetime.date, today: datetime.date, tree: tuple | None = None
) -> tuple[Counts, Counts, dict[int, str]]:
    """(values, split lines, {branch id: path} of the branches in force today) of the
    target's subtree on `as_of`, counted on today's map.

    Each record counts under the branch it is on today (where a reorganisation moved it);
    one that stayed on a dissolved branch (closed before the reorganisation) counts under
    that branch's successor through whole edges, or, where the branch was split, in a
    separate line "From split units" of the branch in force above it (`split lines`:
    {branch id: (numerator, denominator)}, also counted in that branch's total), never
    guessed onto one successor (`associations.history.todays_places`)."""
    root = target.root_branch
    places, in_force_paths = tree or todays_tree(today)
    root_path = in_force_paths.get(root.pk)
    if root_path is None:
        return {}, {}, in_force_paths
    branches = _subtree(in_force_paths, root_path)
    # A smaller root counts only the records whose place today lies in its subtree.
    kept = {branch_id for branch_id, _path in branches}
    within = None if len(kept) == len(in_force_paths) else [o for o, p in places.items() if p.branch_id in kept]

    by_owner = _own_counts(target, as_of=as_of, owner=F("branch_id"), within=within)
    own: dict[int, list[int]] = {}
    split: dict[int, list[int]] = {}
    for branch_id, figures in by_owner.items():
        place = places.get(branch_id)
        if place is None:  # pragma: no cover - a foreign key always points at a branch
            continue
        for bucket in (own, split) if place.split else (own,):
            total = bucket.setdefault(place.branch_id, [0, 0])
            total[0] += figures[0]
            total[1] += figures[1]
    values = _roll_up(branches, {key: tuple(value) for key, value in own.items()}, root_path=root_path)
    splits = {key: tuple(value) for key, value in split.items() if key in values}
    return values, splits, in_force_paths


def target_as_of_dates(target: Target, *, today: datetime.date) -> list[datetime.date]:
    """The dates stored for a target: the end of each plan year so far, the deadline once
    reached, today, a year before today (the pace of the last 12 months), and the past
    dates picked on the dashboard lately (`plans.on_demand`). One query."""
    dates = {day for day in target.plan.year_ends() if day <= today}
    if target.deadline <= today:
        dates.add(target.deadline)
    dates.add(today)
    # Past dates a user picked on the dashboard (plans.on_demand), kept while asked for lately.
    dates.update(OnDemandDate.objects.kept_dates(target.plan_id, today=today))
    try:
        dates.add(today.replace(year=today.year - 1))
    except ValueError:  # 29 February
        dates.add(today.replace(year=today.year - 1, day=28))
    return sorted(dates)


def recompute_lock(key: tuple[str, int]) -> None:
    """Serialise the recomputes of one target (or of the panels) until the transaction ends:
    a run after one write adds its change to the stored values (plans.scoped), so it must
    not interleave with another run of the same target. ("target", id) guards the values a
    run after a write moves; ("history", id) the dates it computes whole (a full run takes
    both, a run after a write one at a time, so its quick part never waits for another's
    slow part). PostgreSQL's advisory lock; SQLite (the embedded mode) runs one writer at a
    time anyway."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    namespace = {"target": 7301, "panels": 7302, "history": 7303}[key[0]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, key[1]])


def indicator_values_store(
    *,
    target: Target,
    as_of: datetime.date,
    values: Counts,
    computed_at: datetime.datetime,
    on_map: str = OnMap.IN_FORCE,
) -> int:
    """Upsert one target's values on one date, on one map.

    On PostgreSQL one INSERT … SELECT FROM unnest(arrays) … ON CONFLICT per 50 000 rows: the
    ids and counts travel as three arrays, with no model instance or per-row parameter built
    (a city's 30 000 branches took seconds through `bulk_create`). Elsewhere (SQLite, the
    embedded mode) `bulk_create` with the same upsert."""
    if connection.vendor == "postgresql":
        return upsert_unnest(
            IndicatorValue,
            unique=["target", "branch", "as_of", "on_map"],
            constants={"target": target.pk, "as_of": as_of, "on_map": on_map, "computed_at": computed_at},
            columns=["branch", "numerator", "denominator"],
            arrays=[list(values), [counts[0] for counts in values.values()], [counts[1] for counts in values.values()]],
            update=["numerator", "denominator", "computed_at"],
        )
    rows = [
        IndicatorValue(
            target=target,
            branch_id=branch_id,
            as_of=as_of,
            on_map=on_map,
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
        unique_fields=["target", "branch", "as_of", "on_map"],
        update_fields=["numerator", "denominator", "computed_at"],
    )
    return len(rows)


def _not_in_force_on(day: datetime.date):
    return Branch.objects.order_by().filter(Q(founded_on__gt=day) | Q(dissolved_on__lte=day)).values("id")


def _forget_stale_values(
    *, target: Target, dates: list[datetime.date], todays_map_dates: list[datetime.date], today: datetime.date
) -> None:
    """Drop the dates no longer stored, the branches that left the target's subtree, the
    values of branches not in force on their date (a reorganisation applied since), and
    the today's-map values of dates where both maps are the same.

    Uncorrelated `branch_id IN (SELECT id FROM branch …)`s: a join inside the DELETE would
    make Django wrap it in `id IN (…)`, which PostgreSQL may plan as a nested loop over
    freshly written, not yet analysed rows.
    """
    values = IndicatorValue.objects.filter(target=target)
    values.exclude(as_of__in=dates).delete()
    values.exclude(on_map=OnMap.IN_FORCE).exclude(as_of__in=todays_map_dates).delete()
    outside = Branch.objects.order_by().exclude(path__startswith=target.root_branch.path).values("id")
    values.filter(branch_id__in=outside).delete()
    for as_of in dates:
        values.filter(on_map=OnMap.IN_FORCE, as_of=as_of, branch_id__in=_not_in_force_on(as_of)).delete()
    values.exclude(on_map=OnMap.IN_FORCE).filter(branch_id__in=_not_in_force_on(today)).delete()


def computes_before_storing() -> bool:
    """Whether a run computes a target's values before its write transaction, holding the
    write lock only to store them. On SQLite (the embedded `make run`) every transaction
    takes the database's one write lock at BEGIN (IMMEDIATE), so a target computed inside it
    kept a manager's save waiting for the whole computation — past the busy timeout it failed
    with "database is locked". Its runs go one after another in one background thread
    (khuyenhoc.background), so none can store older figures over a newer run's. PostgreSQL
    computes under the target's advisory lock (`recompute_lock`), which orders its runs."""
    return transaction.get_connection().vendor == "sqlite"


def target_recompute(*, target: Target, today: datetime.date, computed_at: datetime.datetime, trees=None) -> int:
    """Compute and store every date of one target in one transaction, so a dashboard never
    reads half of a target's run; drop the dates no longer stored (e.g. yesterday's "today").

    Dates before the latest reorganisation are stored on both maps: the map in force that
    day, and today's map with its lines "From split units". `trees`: the run's
    `plans.scoped.Trees`, so the targets of one run read each day's tree and today's places
    once (at full size a tree is a query over 30 000 branches and their moves); without it
    this target reads its own."""
    dates = target_as_of_dates(target, today=today)
    last_change = last_reorganisation_day()
    todays_map_dates = [day for day in dates if last_change is not None and day < last_change]

    def computed():  # (date, map, values), computed as they are read
        for as_of in dates:
            tree = trees.on(as_of) if trees is not None else None
            yield as_of, OnMap.IN_FORCE, indicators_compute_with_tree(target=target, as_of=as_of, tree=tree)[0]
        todays = trees.todays() if trees is not None and todays_map_dates else None
        for as_of in todays_map_dates:
            values, splits, _paths = indicators_compute_on_todays_map_with_tree(
                target=target, as_of=as_of, today=today, tree=todays
            )
            yield as_of, OnMap.TODAY, values
            yield as_of, OnMap.SPLIT, splits

    return computed_values_store(
        target=target,
        rows=computed(),
        computed_at=computed_at,
        dates=dates,
        todays_map_dates=todays_map_dates,
        today=today,
    )


def computed_values_store(
    *,
    target: Target,
    rows: Iterable[tuple[datetime.date, str, dict]],
    computed_at: datetime.datetime,
    dates: list[datetime.date],
    todays_map_dates: list[datetime.date],
    today: datetime.date,
) -> int:
    """Store a target's run, rows of (date, map, values) computed as they are read, in one
    transaction under the target's locks (on SQLite computed first: `computes_before_storing`),
    and drop what the run no longer stores: dates, maps, and branches not in force on a date
    (dissolved since, or not yet founded). Answers the rows written."""
    rows = list(rows) if computes_before_storing() else rows
    written = 0
    with transaction.atomic():
        recompute_lock(("target", target.pk))
        recompute_lock(("history", target.pk))
        for as_of, on_map, values in rows:
            written += indicator_values_store(
                target=target, as_of=as_of, values=values, computed_at=computed_at, on_map=on_map
            )
        _forget_stale_values(target=target, dates=dates, todays_map_dates=todays_map_dates, today=today)
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
        recompute_lock(("panels", 0))
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
