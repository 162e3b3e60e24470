"""Thin Celery tasks: they take ids and call services."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from plans import exports, on_demand, services
from plans.models import RecomputeRun


@shared_task(
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
    time_limit=30 * 60,
    soft_time_limit=28 * 60,
)
def indicators_recompute(run_id: int | None = None, from_day: str | None = None) -> int:
    """Recompute and upsert every stored indicator value; running it twice leaves the same rows.

    Without a run id it is the nightly run (the beat schedule) and also picks up runs left
    pending while the worker or Redis was down. `from_day` (ISO date): a run after a write
    recomputes the stored dates from that day only."""
    run = services.recompute_run_execute(
        run_id=run_id,
        trigger=RecomputeRun.Trigger.NIGHTLY,
        from_day=datetime.date.fromisoformat(from_day) if from_day else None,
    )
    return run.rows_written


@shared_task(
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    time_limit=30 * 60,
    soft_time_limit=28 * 60,
)
def indicators_recompute_pending() -> int:
    """Every few minutes: compute a change that was left pending while Redis or the worker
    was down (nothing when no run waits)."""
    run = services.recompute_pending_execute()
    return run.rows_written if run else 0


@shared_task(
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    time_limit=15 * 60,
    soft_time_limit=14 * 60,
)
def report_pdf_build(export_id: int) -> None:
    """Build a large PDF report in the background; the page polls until its link appears."""
    exports.report_export_build(export_id=export_id)


@shared_task(
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    time_limit=30 * 60,
    soft_time_limit=28 * 60,
)
def picked_date_compute(plan_id: int, as_of: str) -> int:
    """Compute and store a date picked on the dashboard (both maps) for a plan's targets;
    the page polls until it is stored. Running it twice writes the same rows."""
    return on_demand.picked_date_compute(plan_id=plan_id, as_of=datetime.date.fromisoformat(as_of))
