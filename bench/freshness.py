"""Issue 16 item 4: freshness. After a clerk saves a member, a donation or an award, how long
until the stored values her branch's and the city's dashboards read show it, with a real
Celery worker running (started here as a subprocess, like the test suite's, with two
processes as docker-compose.yml's).

For each kind of write, BENCH_WRITES (default 10) writes through the services, one after
another, by a clerk of one commune: a civil servant joining an organisation of the commune
today (Plan 99's membership value of today), a donation into the commune's fund today (the
stored money total of this year), an award of a round of the commune paid today (the stored
scholarship total of this year). The time is from the write's commit (an on-commit hook
registered before the service's own) to the moment both the commune's and the city's stored
value show it (the database polled every 20 ms). It includes the 1 s debounce that folds the
writes of the same second into one run (PLANS_SCOPED_RECOMPUTE_DEBOUNCE_SECONDS). Each write
is dated today, so its run recomputes the stored dates of this year only (plans.scoped).

The reference: a full-city recompute (`plans.services.indicators_recompute_all`), which is
what every write scheduled before (after a 60 s debounce); also run first so the stored
values are today's. The goal: within 10 s at full size.

    DATABASE_URL=… REDIS_URL=… python -m bench.freshness [small|full]

BENCH_FRESHNESS_REFERENCE=stale recomputes first only the targets not computed today and the
dashboard's money and scholarship totals instead of the whole city (a shared machine's full
run can take half an hour); the figures of the writes are the same measure.
"""

from __future__ import annotations

import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import save, setup_django

WRITES = int(os.environ.get("BENCH_WRITES", "10"))
GOAL_SECONDS = 10.0
TIMEOUT_SECONDS = 300.0


def start_worker() -> subprocess.Popen:
    """A Celery worker on the same database and Redis, answering a ping."""
    from khuyenhoc.celery import app

    app.control.purge()  # a city-wide run queued by earlier writes would hold the solo worker
    log_path = Path(os.environ.get("BENCH_OUT") or Path(__file__).resolve().parent / "results") / "freshness_worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "khuyenhoc",
            "worker",
            "--concurrency=2",  # as docker-compose.yml's worker
            "--loglevel=WARNING",
            "--hostname=bench-freshness@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=Path(__file__).resolve().parents[1],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the Celery worker exited: " + log_path.read_text()[-3000:])
        if app.control.ping(timeout=0.5):
            return process
    process.kill()
    raise RuntimeError("the Celery worker did not answer a ping within 60 s")


def pick_commune():
    """A commune in force today with an organisation and an open fund (the first by path)."""
    from django.db.models import Exists, OuterRef, Q

    from associations.models import Branch, BranchLevel, Organization
    from funds.models import Fund

    today = datetime.date.today()
    open_funds = Fund.objects.filter(branch=OuterRef("pk")).filter(Q(closed_on__isnull=True) | Q(closed_on__gt=today))
    return (
        Branch.objects.filter(level=BranchLevel.COMMUNE)
        .active_on(today)
        .filter(Exists(Organization.objects.filter(branch=OuterRef("pk"))), Exists(open_funds))
        .order_by("path")
        .first()
    )


def clerk_of(branch):
    from django.contrib.auth import get_user_model

    from associations.models import StaffProfile, StaffRole

    user, _created = get_user_model().objects.get_or_create(username="bench-freshness-clerk")
    StaffProfile.objects.update_or_create(user=user, defaults={"branch": branch, "role": StaffRole.CLERK})
    return get_user_model().objects.get(pk=user.pk)


def wait_for(read, expected, *, since: float) -> float:
    """Seconds from `since` until `read()` answers `expected` (polled every 20 ms)."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if read() == expected:
            return time.monotonic() - since
        time.sleep(0.02)
    raise RuntimeError(f"the stored value did not reach {expected!r} within {TIMEOUT_SECONDS:.0f} s: {read()!r}")


def timed_writes(kind: str, write, read) -> dict:
    """`write(n)` WRITES times; each time, seconds from its commit until `read()` shows it."""
    from django.db import transaction

    from plans.models import RecomputeRun

    seconds = []
    for n in range(WRITES):
        before = read()
        committed: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda committed=committed: committed.append(time.monotonic()))
            expected = write(n, before)
        seconds.append(wait_for(read, expected, since=committed[0]))
    runs = list(
        RecomputeRun.objects.filter(branch__isnull=False, finished_at__isnull=False)
        .order_by("-pk")[:WRITES]
        .values_list("started_at", "finished_at")
    )
    run_seconds = [(finished - started).total_seconds() for started, finished in runs]
    result = {
        "writes": WRITES,
        "median_seconds": statistics.median(seconds),
        "max_seconds": max(seconds),
        "seconds": seconds,
        "scoped_run_median_seconds": statistics.median(run_seconds) if run_seconds else None,
    }
    print(
        f"  {kind}: commit → stored value median {result['median_seconds']:.2f} s, max {result['max_seconds']:.2f} s"
        f" (the scoped run itself: median {result['scoped_run_median_seconds'] or 0:.2f} s)",
        flush=True,
    )
    return result


def main(scale: str) -> None:
    setup_django()
    from django.core.cache import cache
    from django.utils import timezone

    from associations.models import MemberCategory, Organization
    from associations.services import member_create
    from funds import services as fund_services
    from funds.models import Fund
    from plans.models import Indicator, IndicatorValue, MoneyYearTotal, OnMap, ScholarshipYearTotal, Target
    from plans.services import RECOMPUTE_LOCK_KEY, indicators_recompute_all
    from scholarships import services as scholarship_services
    from scholarships.models import AwardCategory, RecipientKind

    today = timezone.localdate()
    commune = pick_commune()
    city = type(commune).objects.get_root(commune)
    clerk = clerk_of(commune)
    organization = Organization.objects.filter(branch=commune).order_by("pk").first()
    fund = Fund.objects.filter(branch=commune, closed_on__isnull=True).order_by("pk").first()
    # The awards' money: given before the reference run, so the awards never lack a balance.
    fund_services.donation_record(
        actor=clerk,
        fund=fund,
        donor_name="Quỹ đo độ tươi",
        donor_kind="organization",
        amount=WRITES * 1_000_000,
        received_on=today,
    )
    scholarship_round = scholarship_services.round_create(
        actor=clerk, branch=commune, fund=fund, name="Học bổng đo độ tươi", school_year="2026-2027", awarded_on=today
    )

    started = time.perf_counter()
    if os.environ.get("BENCH_FRESHNESS_REFERENCE") == "stale":
        # Only the targets whose stored dates are not today's (the rest were computed today):
        # what the first write's run would otherwise compute whole. Not the full-city figure.
        from plans.indicators import panel_totals_recompute
        from plans.scoped import _target_full

        active = Target.objects.filter(plan__is_active=True).select_related("plan", "root_branch", "definition")
        stale = [target for target in active if not IndicatorValue.objects.filter(target=target, as_of=today).exists()]
        for target in stale:
            _target_full(target, today=today, computed_at=timezone.now())
        panel_totals_recompute()  # the set-up's donation is in the stored totals the writes move
        full_seconds = None
        print(
            f"freshness ({scale}): {commune} — {len(stale)} targets not computed today recomputed in"
            f" {time.perf_counter() - started:.1f} s (no full-city recompute)",
            flush=True,
        )
    else:
        indicators_recompute_all()
        full_seconds = time.perf_counter() - started
        print(f"freshness ({scale}): {commune} — a full-city recompute {full_seconds:.1f} s", flush=True)

    membership = Target.objects.filter(plan__is_active=True, indicator=Indicator.CADRE_MEMBERSHIP).first()

    def members_stored():
        rows = IndicatorValue.objects.filter(
            target=membership, as_of=today, on_map=OnMap.IN_FORCE, branch__in=[commune, city]
        ).values_list("branch_id", "numerator")
        return tuple(sorted(rows))

    def member_write(n, before):
        member_create(
            actor=clerk,
            data={
                "full_name": f"Nguyễn Văn Tươi {n}",
                "category": MemberCategory.CIVIL_SERVANT,
                "organization": organization,
                "branch": commune,
                "joined_on": today,
            },
        )
        return tuple((branch_id, numerator + 1) for branch_id, numerator in before)

    def money_stored():
        rows = MoneyYearTotal.objects.filter(branch__in=[commune, city], year=today.year, fund_model=fund.fund_model)
        return tuple(sorted(rows.values_list("branch_id", "amount")))

    def donation_write(n, before):
        fund_services.donation_record(
            actor=clerk,
            fund=fund,
            donor_name=f"Nhà hảo tâm {n}",
            donor_kind="individual",
            amount=100_000,
            received_on=today,
        )
        return tuple((branch_id, amount + 100_000) for branch_id, amount in before)

    def awards_stored():
        rows = ScholarshipYearTotal.objects.filter(branch__in=[commune, city], year=today.year)
        return tuple(sorted(rows.values_list("branch_id", "turns")))

    def award_write(n, before):
        scholarship_services.award_pay(
            actor=clerk,
            scholarship_round=scholarship_round,
            recipient_kind=RecipientKind.PUPIL,
            recipient_name=f"Lê Thị Tươi {n}",
            category=AwardCategory.HARDSHIP,
            amount=500_000,
            paid_on=today,
            date_of_birth=datetime.date(2012, 4, 2),
        )
        turns = dict(before)
        return tuple(sorted((branch_id, turns.get(branch_id, 0) + 1) for branch_id in (commune.pk, city.pk)))

    worker = start_worker()
    # The runs of the set-up's writes went with the purged queue: let the next writes schedule theirs.
    scoped_keys = [f"{RECOMPUTE_LOCK_KEY}:{kind}:{commune.pk}" for kind in ("registry", "money")]
    cache.delete_many([RECOMPUTE_LOCK_KEY, *scoped_keys, *(f"{key}:{today.year}" for key in scoped_keys)])
    try:
        results = {
            "member": timed_writes("member", member_write, members_stored),
            "donation": timed_writes("donation", donation_write, money_stored),
            "award": timed_writes("award", award_write, awards_stored),
        }
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    worst = max(result["median_seconds"] for result in results.values())
    save(
        f"freshness_{scale}",
        {
            "scale": scale,
            "commune": str(commune),
            "full_recompute_seconds": full_seconds,
            "kinds": results,
            "goal_seconds": GOAL_SECONDS,
            "goal_met": worst <= GOAL_SECONDS,
        },
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "full")
