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
- the learning titles' yearly records (2021–2026) dated on or after the effective day (a
  year's eligible count is dated the year's first registration day, 5 January) are re-homed
  by the apply too (`reorganisation.rehome.learning_records_rehome`: a registration goes to
  the branch its subject now belongs to, a decision moves whole to a successor (a legal
  document, never merged: a successor may hold several of one title and year, each its old
  commune's body's), eligible counts of a unit with one successor are summed onto it). The
  eligible counts of a unit split between several successors the apply leaves where they are
  (never guessed): the generated clerks then enter them again for a new unit
  (`split_totals_reentered`, synthetic: onto the successor that received most of the unit's
  records).
`rounds_check` fails the generation if any record is left on a branch dated on or after its
dissolution (`dated_after_dissolution`: money, scholarship rounds and awards, organisations and
members, the learning titles' records, centres and their activities, reports), or an eligible
total of 2025 or later on a unit not in force on its date.

`make run`'s demo generates on the 2017 map with `rounds=0, rounds_later=True` (its money
already avoids the funds the first round closes), makes its accounts there, then applies the
rounds with its own recorded decisions, calling `split_totals_reentered` after each round:
the same data rules as here, checked by tests/demo/test_demo_rounds.py.

At full size the rounds' cost is mostly the learning records: the generator's rounds schedule
no recompute (`plans.receivers.recomputes_not_scheduled`; it recomputes once at its end), runs ANALYZE
before the rounds, and builds the registration table's indexes only after them (the re-homing
then runs with the foreign-key triggers off: `round_apply` runs the apply within
`reorganisation.rehome.indexes_deferred_for`).
"""

from __future__ import annotations

import datetime
import time

from django.db import connection, transaction
from django.db.models import F, Q

from associations.models import Branch, Member, Organization, RecordMove, Reorganisation
from centres.models import Activity, Centre
from demo.generator.base import GeneratorError
from funds.models import Donation, LedgerEntry, Payment
from learning.models import Deadline, Decision, EligibleCount, Registration, TitleFigure
from plans.receivers import recomputes_not_scheduled
from reorganisation import rehome, rounds, services
from reporting.models import Report
from scholarships.models import Award, ScholarshipRound

LEARNING_YEAR_START = rehome.LEARNING_YEAR_START
_year_dated_from = rehome.year_dated_from


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
        """Each round in its own transaction. The apply's signals schedule no recompute
        (`plans.receivers.recomputes_not_scheduled`; at full size an eager one after each
        round's commit took minutes): the generator recomputes everything once at its end."""
        for round_ in rounds.hanoi_rounds()[: self.rounds_to_apply]:
            timings: dict[str, float] = {}
            started = time.perf_counter()
            with recomputes_not_scheduled(), transaction.atomic():
                result = round_apply(
                    round_, indexes_deferred=bool(getattr(self, "deferred_indexes", None)), timings=timings
                )
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
    """Apply one of Hanoi's rounds to the generated city by rule (the apply re-homes the
    learning records dated on or after the effective day; with `indexes_deferred` it runs its
    re-homing as the generator's load needs), then re-enter the eligible totals it leaves on
    split units (`split_totals_reentered`). `timings`, when given, receives the seconds of
    each step (draft, apply, split totals)."""
    timings = {} if timings is None else timings
    started = time.perf_counter()
    reorganisation = round_draft(round_)
    timings["draft"] = time.perf_counter() - started
    started = time.perf_counter()
    with rehome.indexes_deferred_for(indexes_deferred):
        result = services.reorganisation_apply(actor=None, reorganisation=reorganisation)
    timings["apply"] = time.perf_counter() - started
    if not result.applied:
        raise GeneratorError(f"round {round_.key}: {result.message}")
    started = time.perf_counter()
    split_totals_reentered(reorganisation)
    timings["split totals"] = time.perf_counter() - started
    return result


def split_totals_reentered(reorganisation: Reorganisation) -> int:
    """After the apply of `reorganisation` (which re-homes the learning records dated from its
    day itself, `reorganisation.rehome`), what the generated city's clerks would do next: enter
    the new units' eligible totals of the years the apply left on the units it split and on
    those merged with part of one (the portal never divides nor guesses them,
    `reorganisation.rehome.totals_kept`). Synthetic: each such unit's totals are entered
    on the successor that received most of its records (`successors_of`), added to what is
    there. Answers how many of those totals were re-entered. The demo's and the
    generator's `after_apply`."""
    day = reorganisation.effective_on
    dissolved = list(Branch.objects.filter(dissolved_on=day).values_list("id", flat=True))
    kept = rehome.totals_kept(reorganisation, dissolved)
    if not kept:
        return 0
    mapping = rehome.successors_of(reorganisation, sorted(kept))
    return rehome.eligible_totals_added(rehome.year_dated_from(day), mapping)


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
