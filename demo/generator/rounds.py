"""Hanoi's three reorganisation rounds, applied to the generated city at their dates.

The generator builds every year on the 2017 map, then applies the rounds (decided by
`reorganisation.rounds.rule_decisions`, a stated rule, never official) so that benchmarks run
on today's map with its history. What is dated after a round's effective day never stays on
a unit it dissolved or a fund it closed:

- money (2015–2020) meets only the first round (01/01/2020): the generator asks that round's
  dry run, before drawing any money, which communes it dissolves; a donation or a scholarship
  round dated on or after that day that would fall on a fund of such a commune falls on the
  fund above it (its district's) instead. The apply then closes the commune's fund on the
  effective day with its balance moved by a transfer.
- the registry's current records (organisations, members, chapters, boards, households,
  clans, communities, citizens) are moved by the apply itself.
- the learning titles' yearly records (2021–2026) that the apply keeps as history are
  re-homed afterwards when they are dated on or after the effective day (a year's eligible
  count is dated the year's first registration day, 5 January): a registration goes to the
  branch its subject now belongs to; a decision and an eligible count go to the successor
  that received most of the dissolved unit's records (`RecordMove`), else its first lineage
  successor; decisions that then meet one of the successor's for the same title and year are
  merged into it (their registrations follow), eligible counts are summed; the dissolved
  unit's title figures of those years are dropped (the recompute makes the successor's).
`rounds_check` fails the generation if any record is left on a branch dated on or after its
dissolution (`dated_after_dissolution`: money, scholarship rounds and awards, organisations and
members, the learning titles' records, centres and their activities, reports), or an eligible
total of 2025 or later on a unit not in force on its date.

`make run`'s demo generates on the 2017 map with `rounds=0, rounds_later=True` (its money
already avoids the funds the first round closes), makes its accounts there, then applies the
rounds with its own recorded decisions, calling `records_rehome` after each round: the same
data rules as here, checked by tests/demo/test_demo_rounds.py.

At full size the rounds' cost is mostly the learning records: the generator drops the
recompute each round's commit would schedule (it recomputes once at its end), runs ANALYZE
before the rounds, and builds the registration table's indexes only after them (the re-homing
then runs with the foreign-key triggers off: see `records_rehome`).
"""

from __future__ import annotations

import datetime
import time
from collections import Counter, defaultdict
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum

from associations.models import Branch, LineageEdge, Member, Organization, RecordMove, Reorganisation
from centres.models import Activity, Centre
from demo.generator.base import GeneratorError
from funds.models import Donation, LedgerEntry, Payment
from learning.models import Deadline, Decision, EligibleCount, Registration, TitleFigure
from reorganisation import rounds, services
from reporting.models import Report
from scholarships.models import Award, ScholarshipRound

LEARNING_YEAR_START = (1, 5)  # a learning year's records are dated from its first registration day


def _year_dated_from(day: datetime.date) -> int:
    """The first learning year whose records are all dated on or after `day`."""
    return day.year if (day.month, day.day) <= LEARNING_YEAR_START else day.year + 1


class RoundStages:
    """Mixin of HanoiGenerator: the rounds, before the money (which communes the first round
    dissolves) and after everything (apply, re-home, check)."""

    def _plan_first_round(self) -> None:
        """The first round's draft and dry run on the empty registry: the communes it
        dissolves, by id, with its effective day (the money avoids their funds from then)."""
        first = rounds.hanoi_rounds()[0]
        self.closing_day: dict[int, int] = {}
        if not (self.rounds_to_apply or self.rounds_later) or first.effective_on > datetime.date(2020, 12, 31):
            return
        reorganisation = Reorganisation.objects.filter(name=first.name, effective_on=first.effective_on).first()
        if reorganisation is None:
            reorganisation = services.reorganisation_create(
                actor=None,
                name=first.name,
                legal_basis=first.legal_basis,
                effective_on=first.effective_on,
                rows=first.rows(),
                source=first.source,
            )
        plan = services.reorganisation_plan(reorganisation=reorganisation)
        ordinal = first.effective_on.toordinal()
        for unit in plan.units:
            if unit.mode in {services.WHOLE_MODE, services.DECIDE_MODE}:
                self.closing_day[unit.predecessor.pk] = ordinal

    def _open_fund(self, fund_index: int, day: int) -> int:
        """The fund money dated `day` falls on: the fund itself, or, when a round closes the
        fund's branch on or before that day, the nearest fund above it still open."""
        while True:
            closing = self.closing_day.get(self.funds[fund_index].branch_id)
            if closing is None or day < closing:
                return fund_index
            parent = self.funds[fund_index].parent_fund
            if parent is None:
                raise GeneratorError("a round closes the city fund")
            fund_index = parent

    # --- after the load -------------------------------------------------------------------
    def _apply_rounds(self) -> None:
        """Each round in its own transaction. The recompute a round's apply schedules for its
        commit is dropped (at full size an eager one took minutes per round): the generator
        recomputes everything once at its end."""
        for round_ in rounds.hanoi_rounds()[: self.rounds_to_apply]:
            timings: dict[str, float] = {}
            started = time.perf_counter()
            with transaction.atomic():
                result = round_apply(
                    round_, indexes_deferred=bool(getattr(self, "deferred_indexes", None)), timings=timings
                )
                scheduled_recomputes_dropped()
                committing = time.perf_counter()
            timings["commit"] = time.perf_counter() - committing
            moved = RecordMove.objects.filter(reorganisation=result.reorganisation).count()
            self.summary.rows[f"round {round_.key}: records moved"] = moved
            parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
            self.log(
                f"    {'round ' + round_.key:<30} {moved:>10,} moved {time.perf_counter() - started:6.1f} s ({parts})"
            )

    def _check_rounds(self) -> None:
        rounds_check()


def scheduled_recomputes_dropped() -> int:
    """Inside an atomic block: forget the recomputes of Plan 99's indicators (and the
    learning titles' figures) that the plans app scheduled for its commit, for a caller that
    recomputes everything itself afterwards (the generator, the demo's set-up). Answers how
    many were dropped."""
    hooks = connection.run_on_commit
    kept = [hook for hook in hooks if not (getattr(hook[1], "__module__", None) or "").startswith("plans.")]
    dropped = len(hooks) - len(kept)
    hooks[:] = kept
    return dropped


def round_draft(round_) -> Reorganisation:
    """The round's draft (reused if one of the same name and day exists), its items listed
    and decided by `rule_decisions`: what the clerks would have done before applying."""
    reorganisation = Reorganisation.objects.filter(name=round_.name, effective_on=round_.effective_on).first()
    if reorganisation is None:
        reorganisation = services.reorganisation_create(
            actor=None,
            name=round_.name,
            legal_basis=round_.legal_basis,
            effective_on=round_.effective_on,
            rows=round_.rows(),
            source=round_.source,
        )
    if reorganisation.status == Reorganisation.Status.DRAFT:
        rounds.rule_decisions(actor=None, reorganisation=reorganisation)
    return reorganisation


@transaction.atomic
def round_apply(
    round_, *, indexes_deferred: bool = False, timings: dict[str, float] | None = None
) -> services.ApplyResult:
    """Apply one of Hanoi's rounds to the generated city by rule, then re-home its records
    dated on or after the effective day (`records_rehome`). `timings`, when given, receives
    the seconds of each step (draft, apply, re-home)."""
    timings = {} if timings is None else timings
    started = time.perf_counter()
    reorganisation = round_draft(round_)
    timings["draft"] = time.perf_counter() - started
    started = time.perf_counter()
    result = services.reorganisation_apply(actor=None, reorganisation=reorganisation)
    timings["apply"] = time.perf_counter() - started
    if not result.applied:
        raise GeneratorError(f"round {round_.key}: {result.message}")
    started = time.perf_counter()
    records_rehome(reorganisation, indexes_deferred=indexes_deferred)
    timings["re-home"] = time.perf_counter() - started
    return result


def _successors(reorganisation: Reorganisation, dissolved: list[int]) -> dict[int, int]:
    """Each dissolved unit → the successor that received most of its records."""
    tally: dict[int, Counter] = defaultdict(Counter)
    moved = (
        RecordMove.objects.filter(reorganisation=reorganisation, from_branch_id__in=dissolved)
        .values_list("from_branch_id", "to_branch_id")
        .annotate(n=Count("id"))
    )
    for source, target, n in moved:
        tally[source][target] += n
    successors = {source: counter.most_common(1)[0][0] for source, counter in tally.items()}
    for source, target in (
        LineageEdge.objects.filter(reorganisation=reorganisation, predecessor_id__in=dissolved)
        .order_by("-id")
        .values_list("predecessor_id", "successor_id")
    ):
        successors.setdefault(source, target)
    return successors


def records_rehome(reorganisation: Reorganisation, *, indexes_deferred: bool = False) -> None:
    """Re-home the learning records the apply of `reorganisation` keeps as history but dated on
    or after its effective day (the module's docstring says where each goes). With
    `indexes_deferred` (the generator's load left the registration table without its plain
    indexes, to build them after the rounds) the decisions' merge runs with the foreign-key
    triggers off whatever its size, as above the rebuild threshold, and rebuilds nothing."""
    day = reorganisation.effective_on
    dissolved = list(Branch.objects.filter(dissolved_on=day).values_list("id", flat=True))
    if not dissolved:
        return
    mapping = _successors(reorganisation, dissolved)
    first_year = _year_dated_from(day)
    values = ", ".join(f"({int(u)}, {int(s)})" for u, s in mapping.items())
    # With the indexes deferred, the foreign-key triggers are off for this UPDATE too (it
    # writes branch ids it reads from the subjects): at full size the third round re-points
    # some two million registrations, each a deferred check at COMMIT otherwise.
    with _indexes_rebuilt("learning_registration", indexes_deferred), connection.cursor() as cursor:
        # Registrations: to the branch their subject belongs to now.
        cursor.execute(
            f"""UPDATE learning_registration SET branch_id = COALESCE(
                    (SELECT branch_id FROM learning_household s WHERE s.id = learning_registration.household_id),
                    (SELECT branch_id FROM learning_clan s WHERE s.id = learning_registration.clan_id),
                    (SELECT branch_id FROM learning_community s WHERE s.id = learning_registration.community_id),
                    (SELECT branch_id FROM learning_citizen s WHERE s.id = learning_registration.citizen_id),
                    (SELECT branch_id FROM associations_organization s
                        WHERE s.id = learning_registration.organization_id),
                    learning_registration.branch_id)
                WHERE branch_id IN ({",".join(str(int(u)) for u in dissolved)}) AND registered_on >= %s""",  # noqa: S608 — ids are ints
            [day],
        )
    if not mapping:
        return
    if indexes_deferred:
        _rehome_decisions(day, mapping, values, indexes_deferred=True)
    else:
        _rehome_decisions(day, mapping, values)  # the call tests/demo/test_generator_rehome.py replaces
    _rehome_counts(first_year, mapping)
    TitleFigure.objects.filter(branch_id__in=dissolved, year__gte=first_year).delete()


# Above this many registrations to re-point, the merge drops the registration table's plain
# indexes and builds them again afterwards (PostgreSQL): at full size the third round merges
# some 4 000 decisions whose 2.8 million registrations would otherwise each update 17 indexes
# (334 s for that one UPDATE on the shared machine, against a rebuild of about a minute).
REBUILD_INDEXES_ABOVE = 200_000


def _rehome_decisions(day, mapping: dict[int, int], values: str, *, indexes_deferred: bool = False) -> None:
    moving = list(
        Decision.objects.filter(branch_id__in=mapping, decided_on__gte=day)
        .order_by("id")
        .values_list("id", "branch_id", "kind_id", "year")
    )
    if not moving:
        return
    keys = {(mapping[branch], kind, year) for _id, branch, kind, year in moving}
    keeper: dict[tuple, int] = {}
    for pk, branch, kind, year in (
        Decision.objects.filter(branch_id__in={key[0] for key in keys}, year__in={key[2] for key in keys})
        .order_by("id")
        .values_list("id", "branch_id", "kind_id", "year")
    ):
        if (branch, kind, year) in keys:
            keeper.setdefault((branch, kind, year), pk)
    merged: list[tuple[int, int]] = []
    for pk, branch, kind, year in moving:
        key = (mapping[branch], kind, year)
        if key in keeper:
            merged.append((pk, keeper[key]))
        else:
            keeper[key] = pk
    with connection.cursor() as cursor:
        if merged:
            old_ids = [a for a, _b in merged]
            cursor.execute(
                f"SELECT COUNT(*) FROM learning_registration WHERE decision_id IN ({','.join(['%s'] * len(old_ids))})",  # noqa: S608 — placeholders
                old_ids,
            )
            (rows,) = cursor.fetchone()
            pairs = ", ".join(f"({int(a)}, {int(b)})" for a, b in merged)
            with _indexes_rebuilt("learning_registration", indexes_deferred or rows > REBUILD_INDEXES_ABOVE):
                cursor.execute(
                    f"""WITH m(old_id, new_id) AS (VALUES {pairs})
                        UPDATE learning_registration SET decision_id = m.new_id
                        FROM m WHERE learning_registration.decision_id = m.old_id"""  # noqa: S608 — ids are ints
                )
                # Raw, in the block: no registration names them any more (the UPDATE moved every
                # one); the ORM's delete, or a deferred check after the rebuild, would look for
                # them again through an index that still holds the rows' old versions.
                cursor.execute(
                    f"DELETE FROM learning_decision WHERE id IN ({','.join(['%s'] * len(old_ids))})",  # noqa: S608 — placeholders
                    old_ids,
                )
        cursor.execute(
            f"""WITH m(unit, successor) AS (VALUES {values})
                UPDATE learning_decision SET branch_id = m.successor
                FROM m WHERE learning_decision.branch_id = m.unit AND learning_decision.decided_on >= %s""",  # noqa: S608 — ids are ints
            [day],
        )


@contextmanager
def _indexes_rebuilt(table: str, rebuild: bool):
    """With `rebuild` on PostgreSQL: the table's plain indexes (not those of a primary key or
    a constraint) dropped for the block and built again after it, and, for a superuser, the
    foreign-key triggers off during the block (the generator's own load does the same; the
    block writes only ids it has just read from the referenced table). The checks already
    pending are run first: PostgreSQL builds no index on a table with pending trigger events.
    Otherwise nothing."""
    if not rebuild or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        (superuser,) = cursor.fetchone()
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    with connection.cursor() as cursor:
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys are initially deferred


def _rehome_counts(first_year: int, mapping: dict[int, int]) -> None:
    rows = (
        EligibleCount.objects.filter(branch_id__in=mapping, year__gte=first_year)
        .values_list("branch_id", "kind_id", "year")
        .annotate(total=Sum("count"))
    )
    totals: Counter = Counter()
    for branch, kind, year, total in rows:
        totals[(mapping[branch], kind, year)] += total
    if not totals:
        return
    existing = {
        (row.branch_id, row.kind_id, row.year): row
        for row in EligibleCount.objects.filter(branch_id__in={key[0] for key in totals}, year__gte=first_year)
        if (row.branch_id, row.kind_id, row.year) in totals
    }
    EligibleCount.objects.filter(branch_id__in=mapping, year__gte=first_year).delete()
    for key, row in existing.items():
        row.count += totals.pop(key)
    EligibleCount.objects.bulk_update(list(existing.values()), ["count"])
    EligibleCount.objects.bulk_create(
        EligibleCount(branch_id=branch, kind_id=kind, year=year, count=count)
        for (branch, kind, year), count in sorted(totals.items())
    )


def dated_after_dissolution() -> dict[str, int]:
    """Every kind of record dated on or after the day its branch (or its fund's, its
    centre's) was dissolved and still on it, counted per label ("2020-01-01 donations": n);
    only non-zero counts. The whole rule of the generated city and the demo: a record follows
    the map in force on its date. Learning eligible totals are dated their year's first
    registration day (5 January), reports their period's first day, a deadline its year's
    first registration day."""
    problems: dict[str, int] = {}
    days = Branch.objects.filter(dissolved_on__isnull=False).order_by().values_list("dissolved_on", flat=True)
    for day in sorted(set(days)):
        dissolved = Branch.objects.filter(dissolved_on=day).values("id")
        learning_year = _year_dated_from(day)
        report_year = day.year if (day.month, day.day) == (1, 1) else day.year + 1
        checks = {
            "donations": Donation.objects.filter(fund__branch__in=dissolved, received_on__gte=day),
            "ledger rows": LedgerEntry.objects.filter(fund__branch__in=dissolved, occurred_on__gte=day).exclude(
                transfer__isnull=False
            ),
            "payments": Payment.objects.filter(fund__branch__in=dissolved, paid_on__gte=day),
            "scholarship rounds": ScholarshipRound.objects.filter(
                Q(branch__in=dissolved) | Q(fund__branch__in=dissolved), awarded_on__gte=day
            ),
            "awards": Award.objects.filter(round__branch__in=dissolved, paid_on__gte=day),
            "organisations founded": Organization.objects.filter(branch__in=dissolved, active_from__gte=day),
            "members joined": Member.objects.filter(branch__in=dissolved, joined_on__gte=day),
            "registrations": Registration.objects.filter(branch__in=dissolved, registered_on__gte=day),
            "decisions": Decision.objects.filter(branch__in=dissolved, decided_on__gte=day),
            "eligible counts": EligibleCount.objects.filter(branch__in=dissolved, year__gte=learning_year),
            "learning deadlines": Deadline.objects.filter(branch__in=dissolved, year__gte=learning_year),
            "title figures": TitleFigure.objects.filter(branch__in=dissolved, year__gte=learning_year),
            "centres founded": Centre.objects.filter(branch__in=dissolved, founded_on__gte=day),
            "centre activities": Activity.objects.filter(centre__branch__in=dissolved, starts_on__gte=day),
            "reports": Report.objects.filter(branch__in=dissolved, period__year__gte=report_year),
        }
        for label, queryset in checks.items():
            count = queryset.count()
            if count:
                problems[f"{day:%d/%m/%Y} {label}"] = count
    for fund_label, queryset in {
        "donations on a closed fund": Donation.objects.filter(fund__closed_on__lte=F("received_on")),
        "scholarship rounds on a closed fund": ScholarshipRound.objects.filter(fund__closed_on__lte=F("awarded_on")),
    }.items():
        count = queryset.count()
        if count:
            problems[fund_label] = count
    return problems


def eligible_counts_off_the_map(first_year: int = 2025) -> int:
    """Eligible totals of `first_year` on whose branch was not in force on the year's first
    registration day (the base of the rate "trên tổng số" must sit on a unit of that map)."""
    off = 0
    for year in EligibleCount.objects.filter(year__gte=first_year).order_by().values_list("year", flat=True).distinct():
        on = datetime.date(year, *LEARNING_YEAR_START)
        in_force = Branch.objects.active_on(on).values("id")
        off += EligibleCount.objects.filter(year=year).exclude(branch__in=in_force).count()
    return off


def rounds_check() -> None:
    """No record dated on or after a branch's dissolution on it (`dated_after_dissolution`),
    and the eligible totals from 2025 on units in force on their date."""
    problems = [
        f"{count} {label} dated after their branch's dissolution" for label, count in dated_after_dissolution().items()
    ]
    off = eligible_counts_off_the_map()
    if off:
        problems.append(f"{off} eligible totals of 2025 or later on a unit not in force on their date")
    if problems:
        raise GeneratorError("; ".join(problems))
