"""Writes of the plans app: plans and targets (audited), recompute runs, and the debounced
scheduling of a recompute after the registry or the money changes."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from associations.access import require_write_in
from associations.audit import audit_record, diff, snapshot
from associations.models import AuditAction, Branch
from learning.services import title_figures_recompute
from plans import tasks  # tasks call services and services enqueue tasks: modules, not names
from plans.indicators import panel_totals_recompute, target_recompute
from plans.models import Indicator, Plan, RecomputeRun, RunStatus, Target, TargetMilestone

logger = logging.getLogger(__name__)

# The debounce lock: while it is held, a recompute is scheduled and has not started yet, so a
# further change needs nothing more. The run deletes it when it starts, so a change made
# during a run schedules the next one. In the cache: Redis in production, shared by every
# web process; local memory when embedded (one process) and in tests.
RECOMPUTE_LOCK_KEY = "plans:recompute-scheduled"


def _debounce_seconds() -> int:
    return int(getattr(settings, "PLANS_RECOMPUTE_DEBOUNCE_SECONDS", 60))


# --- Plans and targets ------------------------------------------------------------------
@transaction.atomic
def plan_save(*, actor, plan: Plan) -> Plan:
    """Create or change a plan after checking it lies in the actor's subtree."""
    require_write_in(actor, plan.issuing_branch)
    before = snapshot(Plan.objects.get(pk=plan.pk)) if plan.pk else {}
    plan.full_clean()
    plan.save()
    after = snapshot(plan)
    action = AuditAction.UPDATE if before else AuditAction.CREATE
    changes = diff(before, after) if before else after
    if changes:
        audit_record(actor=actor, obj=plan, action=action, branch=plan.issuing_branch, changes=changes)
    return plan


@transaction.atomic
def target_save(*, actor, target: Target, milestones: dict[int, object] | None = None) -> Target:
    """Create or change a target (and replace its yearly milestones when given)."""
    require_write_in(actor, target.root_branch)
    before = snapshot(Target.objects.get(pk=target.pk)) if target.pk else {}
    target.full_clean()
    target.save()
    if milestones is not None:
        target.milestones.all().delete()
        TargetMilestone.objects.bulk_create(
            TargetMilestone(target=target, year=year, percent=percent) for year, percent in sorted(milestones.items())
        )
    after = snapshot(target)
    if milestones is not None:
        after["milestones"] = {str(year): str(percent) for year, percent in sorted(milestones.items())}
    action = AuditAction.UPDATE if before else AuditAction.CREATE
    changes = diff(before, after) if before else after
    if changes:
        audit_record(actor=actor, obj=target, action=action, branch=target.root_branch, changes=changes)
    transaction.on_commit(recompute_schedule, robust=True)
    return target


PLAN_99_CODE = "99/KH-KHHN"
PLAN_99_TITLE = "Đẩy mạnh học tập suốt đời cho người lớn trên địa bàn Thành phố Hà Nội giai đoạn 2017–2020"


@transaction.atomic
def plan_99_load() -> Plan | None:
    """Plan 99/KH-KHHN of Hanoi's association and its two targets; idempotent.

    Needs the tree's city root "Thành phố Hà Nội"; answers None without it.
    An existing plan or target is left as it is (a manager may have corrected it)."""
    root = Branch.objects.city_root()
    if root is None:
        return None
    plan, created = Plan.objects.get_or_create(
        issuing_branch=root,
        code=PLAN_99_CODE,
        defaults={
            "title": PLAN_99_TITLE,
            "issued_on": datetime.date(2017, 10, 23),
            "starts_on": datetime.date(2017, 1, 1),
            "ends_on": datetime.date(2020, 12, 31),
        },
    )
    if created:
        audit_record(actor=None, obj=plan, action=AuditAction.CREATE, branch=root, changes=snapshot(plan))
    for position, (indicator, threshold) in enumerate(
        [(Indicator.BOARD_COVERAGE, 70), (Indicator.CADRE_MEMBERSHIP, 60)]
    ):
        target, created = Target.objects.get_or_create(
            plan=plan,
            indicator=indicator,
            defaults={
                "threshold_percent": threshold,
                "deadline": datetime.date(2020, 12, 31),
                "root_branch": root,
                "position": position,
                **Target.default_scope(indicator),
            },
        )
        if created:
            audit_record(actor=None, obj=target, action=AuditAction.CREATE, branch=root, changes=snapshot(target))
    return plan


# --- Recomputing --------------------------------------------------------------------------
def indicators_recompute_all(*, today: datetime.date | None = None) -> int:
    """Compute and store every target of every active plan, then the dashboard's money and
    scholarship panels (yearly totals per branch) and the learning titles' figures (per
    branch, title and year); answers the number of rows written."""
    today = today or timezone.localdate()
    computed_at = timezone.now()
    written = 0
    for target in Target.objects.filter(plan__is_active=True).select_related("plan", "root_branch"):
        written += target_recompute(target=target, today=today, computed_at=computed_at)
    written += panel_totals_recompute()
    written += title_figures_recompute()
    return written


def recompute_run_execute(*, run_id: int | None, trigger: str = RecomputeRun.Trigger.NIGHTLY) -> RecomputeRun:
    """Run a recompute, claiming every run still waiting (their changes are included now)."""
    try:
        cache.delete(RECOMPUTE_LOCK_KEY)
    except Exception:  # the cache being down must not stop the computation
        logger.warning("plans: could not release the recompute lock", exc_info=True)
    now = timezone.now()
    if run_id is None:
        run = RecomputeRun.objects.create(trigger=trigger, status=RunStatus.RUNNING, started_at=now)
    else:
        run = RecomputeRun.objects.filter(pk=run_id).first()
        if run is None:  # e.g. a task left in the broker by a database that has since been reset
            run = RecomputeRun.objects.create(trigger=trigger, status=RunStatus.RUNNING, started_at=now)
        elif run.status == RunStatus.DONE:  # delivered twice: the work is done
            return run
    claimed = [*RecomputeRun.objects.filter(status=RunStatus.PENDING).values_list("pk", flat=True), run.pk]
    RecomputeRun.objects.filter(pk__in=claimed).update(status=RunStatus.RUNNING, started_at=now, error="")
    try:
        written = indicators_recompute_all()
    except BaseException as error:
        RecomputeRun.objects.filter(pk__in=claimed).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    RecomputeRun.objects.filter(pk__in=claimed).update(
        status=RunStatus.DONE, finished_at=timezone.now(), rows_written=written
    )
    run.refresh_from_db()
    return run


def recompute_pending_execute() -> RecomputeRun | None:
    """Run a recompute when a run has waited past its debounce: one recorded while Redis or
    the worker was down. Every few minutes (the beat schedule), so a change saved during an
    outage is computed soon after Redis is back, not only at night. Runs waiting within
    their debounce are left to the task already queued for them."""
    waited_since = timezone.now() - datetime.timedelta(seconds=_debounce_seconds() + 60)
    if not RecomputeRun.objects.filter(status=RunStatus.PENDING, requested_at__lt=waited_since).exists():
        return None
    return recompute_run_execute(run_id=None, trigger=RecomputeRun.Trigger.CHANGE)


def _enqueue(run: RecomputeRun, *, countdown: int = 0) -> bool:
    """Hand the run to Celery; when the broker is unreachable, leave it pending for the next run."""
    try:
        tasks.indicators_recompute.apply_async(kwargs={"run_id": run.pk}, countdown=countdown)
    except Exception:
        logger.warning("plans: could not enqueue recompute run %s; it stays pending", run.pk, exc_info=True)
        return False
    return True


def recompute_schedule() -> RecomputeRun | None:
    """After a committed change: schedule one recompute in PLANS_RECOMPUTE_DEBOUNCE_SECONDS,
    unless one is already scheduled and not started. Never raises: saving must not fail
    because Redis or the worker is down; a pending run is then left for the nightly run."""
    delay = _debounce_seconds()
    try:
        scheduled_now = cache.add(RECOMPUTE_LOCK_KEY, "1", timeout=delay + 600)
    except Exception:
        logger.warning("plans: cache unreachable, recording a pending recompute", exc_info=True)
        if RecomputeRun.objects.filter(status=RunStatus.PENDING).exists():
            return None
        return RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.CHANGE, error="cache unreachable")
    if not scheduled_now:
        return None
    run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.CHANGE)
    _enqueue(run, countdown=delay)
    return run


def recompute_request(*, actor) -> RecomputeRun:
    """A manager's "recompute now": a run enqueued right after commit, without waiting."""
    run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.MANUAL, requested_by=actor)
    transaction.on_commit(lambda: _enqueue(run), robust=True)
    return run
