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

    def floor_statements() -> tuple[dict[str, int], list[str]]:
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
                        f"UPDATE associations_branch b SET path = b.path FROM associations_recordmove rm "  # noqa: S608 — ints
                        f"JOIN associations_branch top ON top.id = rm.record_id "
                        f"WHERE rm.reorganisation_id = %s AND rm.record_type = 'associations.branch' "
                        f"AND length(top.path) = {int(length)} AND substr(b.path, 1, {int(length)}) = top.path"
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
                f'UPDATE "{table}" t SET "{column}" = rm.to_branch_id FROM associations_recordmove rm '  # noqa: S608 — model tables
                f"WHERE rm.reorganisation_id = %s AND rm.record_type = '{record_type}' AND t.id = rm.record_id"
            )

        return moves, statements

    def floor(statements: list[str]) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, [reorganisation.pk])
            transaction.set_rollback(True)

    class Rollback(Exception):
        pass

    def apply_once(keep: bool) -> tuple[float, float, object]:
        """One apply, timed; then, in the same transaction, the floor of the rows it moved
        (one warm-up run, one timed, each rolled back to a savepoint): the pair is measured
        within seconds, so a change in the shared machine's load weighs on both alike."""
        started = time.perf_counter()
        try:
            with transaction.atomic():
                result = services.reorganisation_apply(actor=None, reorganisation=reorganisation)
                elapsed = time.perf_counter() - started
                if not result.applied:
                    raise SystemExit(result.message)
                paired, _ = timed(lambda: floor(floor_statements()[1]), repeat=1)
                print(
                    f"apply {elapsed:.2f} s, its floor {paired:.2f} s ({'kept' if keep else 'rolled back'})", flush=True
                )
                if not keep:
                    raise Rollback
        except Rollback:
            reorganisation.refresh_from_db()
        return elapsed, paired, result

    samples = [apply_once(keep=False) for _ in range(APPLY_REPEAT)]
    samples.append(apply_once(keep=True))
    apply_times = [elapsed for elapsed, _paired, _result in samples]
    paired_floors = [paired for _elapsed, paired, _result in samples]
    result = samples[-1][2]
    apply_peak = peak_rss_mb()
    with transaction.atomic():
        split_totals_reentered(reorganisation)
    rounds_check()

    moves, statements = floor_statements()
    floor_seconds, _ = timed(lambda: floor(statements), repeat=REPEAT)
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
