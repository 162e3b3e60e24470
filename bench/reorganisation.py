"""Issue 11: a reorganisation's dry run and apply on the generated city, against a floor.

The city is generated with Hanoi's first two rounds only (`generate_hanoi --rounds 2`); this
bench takes the third (01/07/2025, 526 → 126 communes, the largest), decides its items by the
generator's rule (`demo.generator.rounds.round_draft`, untimed: the clerks' work), then times

- the dry run, `reorganisation_plan` (reads only), median of BENCH_REPEAT runs (default 3);
- the apply, `reorganisation_apply`: BENCH_APPLY_REPEAT runs (default 1) in a transaction
  rolled back, then one kept, median of all (the apply re-homes the learning records dated
  after the effective day itself); afterwards the generator's re-entry of the split units'
  eligible totals and its check, so the city ends on today's map as `generate_hanoi` would
  leave it;
- the floor, measured in the same run after the kept apply: for each kind of record the
  apply moved, one SQL UPDATE setting the same rows' branch ids (from its RecordMove rows;
  for the re-hung chapters and boards, one UPDATE of the same subtrees' paths per length of
  their tops' paths), in a transaction rolled back, median of BENCH_REPEAT runs. The fund
  transfers, the lineage and the audit are not in the floor: it is the least any apply must
  do.
- the same floor paired with each apply: right after it, in its transaction (one warm-up run
  and one timed, each rolled back to a savepoint), so that both are measured under the same
  load of the shared machine; `apply_ratio_paired` is the median of apply / its floor.

Peak memory is this process's peak resident set (getrusage), after the dry runs and after
the applies; PostgreSQL's own memory is not in it.

    DATABASE_URL=… python -m bench.reorganisation [small|full]
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time

from bench.common import save, setup_django, timed

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
APPLY_REPEAT = int(os.environ.get("BENCH_APPLY_REPEAT", "1"))
# BENCH_KEEP=0: every apply rolled back (the database stays a two-round city, for repeated
# runs); the figures are then the paired ones only.
KEEP = os.environ.get("BENCH_KEEP", "1") != "0"
# Warm-up runs of the floor paired with each apply (each applies' floor is run 1 + this many
# times; the apply has just read the same rows).
FLOOR_WARMUP = int(os.environ.get("BENCH_FLOOR_WARMUP", "1"))
# Statements of an apply slower than this many seconds are printed and recorded.
SLOW_SQL = float(os.environ.get("BENCH_SLOW_SQL", "2"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main(label: str) -> None:
    setup_django()
    from django.apps import apps
    from django.db import connection, transaction
    from django.db.migrations.executor import MigrationExecutor
    from django.db.models import Count
    from django.db.models.functions import Length

    from associations.models import Branch, RecordMove, Reorganisation
    from demo.generator.rounds import round_draft, rounds_check, split_totals_reentered
    from reorganisation import services
    from reorganisation.tables import hanoi_rounds

    # A copy of an older city (a template made before the latest migrations) would apply, then
    # fail in a commit hook of the newer code: say so before any work.
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit("The database lacks migrations of this code: run `manage.py migrate` on it first.")
    round_ = hanoi_rounds()[2]
    with transaction.atomic():
        reorganisation = round_draft(round_)
    if reorganisation.status != Reorganisation.Status.DRAFT:
        raise SystemExit(f"{round_.name} is already applied: generate the city with `--rounds 2`.")

    dry_seconds, plan = timed(lambda: services.reorganisation_plan(reorganisation=reorganisation), repeat=REPEAT)
    dry_peak = peak_rss_mb()
    if plan.undecided:
        raise SystemExit(f"{plan.undecided} items undecided")

    # The learning records the apply re-homes leave no RecordMove row: the rows it will move
    # are taken before the applies (untimed), with their branch and decision then.
    dissolved = [unit.predecessor.pk for unit in plan.units if unit.mode in {services.WHOLE_MODE, services.DECIDE_MODE}]
    with connection.cursor() as cursor:
        for sql in (
            "DROP TABLE IF EXISTS bench_registration_moves, bench_decision_moves",
            """CREATE TEMP TABLE bench_registration_moves AS SELECT id, branch_id FROM learning_registration
                WHERE branch_id = ANY(%s) AND registered_on >= %s""",
            """CREATE TEMP TABLE bench_decision_moves AS SELECT id, branch_id FROM learning_decision
                WHERE branch_id = ANY(%s) AND decided_on >= %s""",
            "ANALYZE bench_registration_moves, bench_decision_moves",
        ):
            cursor.execute(sql, [dissolved, reorganisation.effective_on] if "%s" in sql else [])

    def learning_statements() -> list[tuple[str, str, list]]:
        """The learning records' part of the floor, for the apply in force: the same rows'
        branch ids set back to those of before (a real change of each row). The apply moves
        decisions whole (never merged), so their registrations' decision ids do not change."""
        return [
            (
                "learning.registration",
                "UPDATE learning_registration t SET branch_id = c.branch_id FROM bench_registration_moves c "
                "WHERE t.id = c.id",
                [],
            ),
            (
                "learning.decision",
                "UPDATE learning_decision t SET branch_id = c.branch_id FROM bench_decision_moves c WHERE t.id = c.id",
                [],
            ),
        ]

    floor_parts: dict[str, float] = {}

    def floor_statements() -> tuple[dict[str, int], list[tuple[str, str, list]]]:
        """The floor's statements, from the RecordMove rows of the apply in force (kept, or
        not yet rolled back): the same rows' branch ids, one UPDATE per kind of record."""
        moves = dict(
            RecordMove.objects.filter(reorganisation=reorganisation)
            .values_list("record_type")
            .annotate(n=Count("id"))
            .values_list("record_type", "n")
        )
        statements = []
        for record_type in sorted(moves):
            if record_type == "associations.branch":
                # One UPDATE per length of the re-hung tops' paths, each an equality on the path's
                # prefix (a hash join, as the apply's own rewrite does): `b.path LIKE top.path || '%'`
                # cannot use an index and compares every branch with every top.
                lengths = set(
                    Branch.objects.filter(
                        pk__in=RecordMove.objects.filter(
                            reorganisation=reorganisation, record_type="associations.branch"
                        ).values("record_id")
                    )
                    .order_by()
                    .annotate(n=Length("path"))
                    .values_list("n", flat=True)
                    .distinct()
                )
                for length in sorted(lengths):
                    statements.append(
                        (
                            f"associations.branch ({int(length)})",
                            f"UPDATE associations_branch b SET path = b.path FROM associations_recordmove rm "  # noqa: S608 — ints
                            f"JOIN associations_branch top ON top.id = rm.record_id "
                            f"WHERE rm.reorganisation_id = %s AND rm.record_type = 'associations.branch' "
                            f"AND length(top.path) = {int(length)} AND substr(b.path, 1, {int(length)}) = top.path",
                            [reorganisation.pk],
                        )
                    )
                continue
            model = apps.get_model(record_type)
            column = next(
                (f.column for f in model._meta.concrete_fields if f.many_to_one and f.related_model is Branch), None
            )
            if column is None:
                continue
            table = model._meta.db_table
            statements.append(
                (
                    record_type,
                    f'UPDATE "{table}" t SET "{column}" = rm.to_branch_id FROM associations_recordmove rm '  # noqa: S608 — model tables
                    f"WHERE rm.reorganisation_id = %s AND rm.record_type = '{record_type}' AND t.id = rm.record_id",
                    [reorganisation.pk],
                )
            )
        statements += learning_statements()
        return moves, statements

    def floor(statements: list[tuple[str, str, list]]) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for name, sql, params in statements:
                started = time.perf_counter()
                cursor.execute(sql, params)
                floor_parts[name] = round(time.perf_counter() - started, 3)
            transaction.set_rollback(True)

    class Rollback(Exception):
        pass

    slow: list[tuple[float, str]] = []

    def watch(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            if seconds >= SLOW_SQL:
                slow.append((round(seconds, 2), " ".join(sql.split())[:160]))

    def apply_once(keep: bool) -> tuple[float, float, object]:
        """One apply, timed; then, in the same transaction, the floor of the rows it moved
        (one warm-up run, one timed, each rolled back to a savepoint): the pair is measured
        within seconds, so a change in the shared machine's load weighs on both alike."""
        started = time.perf_counter()
        try:
            with transaction.atomic():
                slow.clear()
                with connection.execute_wrapper(watch):
                    result = services.reorganisation_apply(actor=None, reorganisation=reorganisation)
                elapsed = time.perf_counter() - started
                result.slow_statements = list(slow)
                print(f"apply {elapsed:.2f} s ({'kept' if keep else 'rolled back'})", flush=True)
                print("  steps: " + ", ".join(f"{k} {v:.1f}" for k, v in result.seconds.items()), flush=True)
                for seconds, sql in result.slow_statements:
                    print(f"  {seconds:7.2f} s  {sql}", flush=True)
                if not result.applied:
                    raise SystemExit(result.message)
                statements = floor_statements()[1]
                paired, _ = timed(lambda: floor(statements), repeat=1, warmup=FLOOR_WARMUP)
                result.floor_parts = dict(floor_parts)
                print("  floor: " + ", ".join(f"{k} {v:.1f}" for k, v in floor_parts.items()), flush=True)
                print(
                    f"apply {elapsed:.2f} s, its floor {paired:.2f} s ({'kept' if keep else 'rolled back'})", flush=True
                )
                if not keep:
                    raise Rollback
        except Rollback:
            reorganisation.refresh_from_db()
        return elapsed, paired, result

    samples = [apply_once(keep=False) for _ in range(APPLY_REPEAT)]
    if KEEP:
        samples.append(apply_once(keep=True))
    apply_times = [elapsed for elapsed, _paired, _result in samples]
    paired_floors = [paired for _elapsed, paired, _result in samples]
    result = samples[-1][2]
    apply_peak = peak_rss_mb()
    if KEEP:
        with transaction.atomic():
            split_totals_reentered(reorganisation)
        rounds_check()
        moves, statements = floor_statements()
        floor_seconds, _ = timed(lambda: floor(statements), repeat=REPEAT)
    else:
        moves = {k: v for k, v in result.counts.items() if "." in k and isinstance(v, int)}
        statements = []
        floor_seconds = statistics.median(paired_floors)
    apply_seconds = statistics.median(apply_times)
    data = {
        "label": label,
        "round": round_.name,
        "effective_on": round_.effective_on.isoformat(),
        "units_planned": len(plan.units),
        "new_units": len(plan.new_units),
        "records_moved": sum(moves.values()),
        "moves_by_type": moves,
        "counts": {k: v for k, v in result.counts.items() if isinstance(v, int)},
        "dry_run_seconds": dry_seconds,
        "apply_seconds": apply_seconds,
        "apply_samples": apply_times,
        "apply_steps": [r.seconds for _e, _p, r in samples],
        "apply_slow_statements": [r.slow_statements for _e, _p, r in samples],
        "kept": KEEP,
        "floor_paired_parts": [r.floor_parts for _e, _p, r in samples],
        "floor_parts": dict(floor_parts),
        "floor_seconds": floor_seconds,
        "floor_statements": len(statements),
        "dry_run_ratio": dry_seconds / floor_seconds,
        "apply_ratio": apply_seconds / floor_seconds,
        # Each apply against the floor measured right after it, in its transaction.
        "floor_paired_samples": paired_floors,
        "apply_ratio_paired": statistics.median(a / f for a, f in zip(apply_times, paired_floors, strict=True)),
        "dry_run_peak_rss_mb": dry_peak,
        "apply_peak_rss_mb": apply_peak,
    }
    save(f"reorganisation_{label}", data)
    print(
        f"reorganisation ({label}): {data['records_moved']:,} records moved; dry run {dry_seconds:.2f} s "
        f"(×{data['dry_run_ratio']:.2f}), apply {apply_seconds:.2f} s (×{data['apply_ratio']:.2f}) "
        f"vs floor {floor_seconds:.3f} s; paired with its floor ×{data['apply_ratio_paired']:.2f}; "
        f"peak RSS {dry_peak:.0f} MB / {apply_peak:.0f} MB"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "full")
