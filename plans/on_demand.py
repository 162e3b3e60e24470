"""Any past date on the dashboard (issue 11, item 5): a date the nightly run does not store is
computed once, in the background, and stored like the nightly run's dates.

Counting one arbitrary date on the fly costs seconds at full size (the tree on that day and
each target's GROUP BYs: 1–8 s a target), so the dashboard never does it in a request:

- the date picker posts the date (`picked_date_request`): a date already stored for every
  target of the plan shows at once; any other date between the plan's start and today gets
  an `OnDemandDate` row and a Celery task (`plans.tasks.picked_date_compute`), debounced
  per (plan, date) through a cache lock and idempotent (the values are upserted, a second
  run writes the same rows);
- the task (`picked_date_compute`) computes that date for each target of the plan on the
  map in force that day and, for a day before the latest reorganisation, on today's map
  with its lines "From split units" — the same functions and the same `IndicatorValue`
  rows as the nightly run;
- the row marks the date as on demand: `plans.indicators.target_as_of_dates` adds the dates
  being computed or computed (asked for in the last `OnDemandDateQuerySet.KEEP_DAYS` days) to the dates a
  target stores, so the nightly run and the runs after a write keep them and keep them
  true instead of pruning them; a date nobody asked for since is forgotten by the next
  nightly run and computed again when asked.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.history import last_reorganisation_day, todays_tree
from plans import tasks
from plans.catalogue import catalogue_compute, catalogue_compute_on_todays_map
from plans.indicators import (
    indicator_values_store,
    indicators_compute,
    indicators_compute_on_todays_map_with_tree,
    recompute_lock,
)
from plans.models import IndicatorValue, OnDemandDate, OnMap, Plan, Target

logger = logging.getLogger(__name__)

# One task per (plan, date) at a time: a second request within this window enqueues nothing.
DEBOUNCE_SECONDS = 60


def waiting_limit() -> int:
    """How many picked dates may wait or run at once, city-wide: at full size one date costs
    minutes of the worker, so a burst of picks must not queue hours of work."""
    return int(getattr(settings, "PLANS_PICKED_DATES_AT_ONCE", 4))


def picked_date_check(*, plan: Plan, as_of: datetime.date, today: datetime.date) -> None:
    """Refuse a date outside the plan's start .. today with a clear message."""
    if as_of < plan.starts_on or as_of > today:
        raise ValidationError(
            _("Pick a date between %(start)s (the plan's start) and %(today)s (today).")
            % {"start": plan.starts_on.strftime("%d/%m/%Y"), "today": today.strftime("%d/%m/%Y")},
            code="date_outside_plan",
        )


def stored_target_ids(targets: list[Target], as_of: datetime.date) -> set[int]:
    """The targets among `targets` with values stored on `as_of` (at their root, on the map
    in force that day: every run stores the root's value with the others): one query."""
    if not targets:
        return set()
    return set(
        IndicatorValue.objects.order_by()
        .filter(target__in=targets, as_of=as_of, on_map=OnMap.IN_FORCE, branch_id=F("target__root_branch_id"))
        .values_list("target_id", flat=True)
    )


@dataclass
class PickedDate:
    """What the dashboard shows for a picked date: ready (stored for every target shown),
    else the plans whose computation is `waiting` (queued or running), `failed`, or not
    asked for yet (`unrequested`: the page offers to compute them); `error`: the date was
    refused."""

    as_of: datetime.date
    waiting: list[Plan] = field(default_factory=list)
    failed: list[Plan] = field(default_factory=list)
    unrequested: list[Plan] = field(default_factory=list)
    error: str = ""

    @property
    def ready(self) -> bool:
        return not (self.error or self.waiting or self.failed or self.unrequested)

    @property
    def label(self) -> str:
        return self.as_of.strftime("%d/%m/%Y")


def picked_date_state(*, targets: list[Target], as_of: datetime.date, today: datetime.date) -> PickedDate:
    """Whether the dashboard's `targets` have `as_of` stored: a nightly date or one computed
    on demand (a target without a value that day, e.g. rooted at a branch founded later,
    counts as done once its plan's date is computed). Reads only: two queries at most."""
    state = PickedDate(as_of=as_of)
    plans = {target.plan_id: target.plan for target in targets}
    if as_of > today or any(as_of < plan.starts_on for plan in plans.values()):
        start = min((plan.starts_on for plan in plans.values()), default=as_of)
        state.error = _("Pick a date between %(start)s (the plan's start) and %(today)s (today).") % {
            "start": start.strftime("%d/%m/%Y"),
            "today": today.strftime("%d/%m/%Y"),
        }
        return state
    stored = stored_target_ids(targets, as_of)
    missing = {target.plan_id: target.plan for target in targets if target.pk not in stored}
    if not missing:
        return state
    statuses = dict(
        OnDemandDate.objects.filter(plan_id__in=list(missing), as_of=as_of).values_list("plan_id", "status")
    )
    for plan_id, plan in missing.items():
        status = statuses.get(plan_id)
        if status == OnDemandDate.Status.DONE:
            continue
        if status in {OnDemandDate.Status.PENDING, OnDemandDate.Status.RUNNING}:
            state.waiting.append(plan)
        elif status == OnDemandDate.Status.FAILED:
            state.failed.append(plan)
        else:
            state.unrequested.append(plan)
    return state


def _debounce_key(plan_id: int, as_of: datetime.date) -> str:
    return f"plans:on-demand:{plan_id}:{as_of.isoformat()}"


def _enqueue(row: OnDemandDate) -> None:
    """Hand the date to Celery once per DEBOUNCE_SECONDS; when the broker or the cache is
    down the row stays pending and the next request tries again."""
    try:
        if not cache.add(_debounce_key(row.plan_id, row.as_of), "1", timeout=DEBOUNCE_SECONDS):
            return
    except Exception:
        logger.warning("plans: cache unreachable, queueing the picked date anyway", exc_info=True)
    try:
        tasks.picked_date_compute.delay(plan_id=row.plan_id, as_of=row.as_of.isoformat())
    except Exception:
        logger.warning("plans: could not enqueue the picked date %s", row, exc_info=True)


def picked_date_request(*, plan: Plan, as_of: datetime.date, today: datetime.date | None = None) -> OnDemandDate | None:
    """A user picked `as_of` for `plan`: None when every target of the plan has it stored
    already (the nightly dates, or computed before); else the plan's `OnDemandDate`, with a
    task queued after commit unless one is queued or running within the debounce. Raises
    ValidationError for a date outside the plan's start .. today, and (code "busy") when
    `waiting_limit()` other dates are waiting or running: nothing is written then."""
    today = today or timezone.localdate()
    picked_date_check(plan=plan, as_of=as_of, today=today)
    targets = list(plan.targets.select_related("plan"))
    if targets and len(stored_target_ids(targets, as_of)) == len(targets):
        OnDemandDate.objects.filter(plan=plan, as_of=as_of).update(last_requested_at=timezone.now())
        return None
    waiting = [OnDemandDate.Status.PENDING, OnDemandDate.Status.RUNNING]
    if not OnDemandDate.objects.filter(plan=plan, as_of=as_of, status__in=waiting).exists():
        busy = OnDemandDate.objects.filter(status__in=waiting).count()
        if busy >= waiting_limit():
            raise ValidationError(
                _("%(count)s other dates are being computed. Pick this date again when they are done.")
                % {"count": busy},
                code="busy",
            )
    row, created = OnDemandDate.objects.get_or_create(plan=plan, as_of=as_of)
    if not created:
        if row.status in {OnDemandDate.Status.DONE, OnDemandDate.Status.FAILED}:
            row.status = OnDemandDate.Status.PENDING  # its values are gone (forgotten) or failed: again
            row.error = ""
        row.last_requested_at = timezone.now()
        row.save(update_fields=["status", "error", "last_requested_at"])
    transaction.on_commit(lambda: _enqueue(row), robust=True)
    return row


def _replace(*, target: Target, as_of: datetime.date, on_map: str, values, computed_at) -> int:
    """Make the stored values of one target, date and map equal `values`: upsert them, then
    delete the rows the upsert did not touch (branches not among them: their computed_at is
    older). A second run writes the same rows."""
    written = indicator_values_store(target=target, as_of=as_of, values=values, computed_at=computed_at, on_map=on_map)
    stale = IndicatorValue.objects.filter(target=target, as_of=as_of, on_map=on_map).exclude(computed_at=computed_at)
    deleted, _by_model = stale.delete()
    return deleted + written


def target_date_store(
    *,
    target: Target,
    as_of: datetime.date,
    today: datetime.date,
    computed_at: datetime.datetime,
    last_change: datetime.date | None,
    todays: tuple | None = None,
) -> int:
    """Compute and store one target on one date: on the map in force that day and, before
    the latest reorganisation, on today's map with its lines "From split units" — under the
    target's locks, as the full run does, so it never interleaves with another run of it."""
    written = 0
    with transaction.atomic():
        recompute_lock(("target", target.pk))
        recompute_lock(("history", target.pk))
        if target.is_catalogue:
            values = catalogue_compute(target=target, as_of=as_of)
        else:
            values = indicators_compute(target=target, as_of=as_of)
        written += _replace(target=target, as_of=as_of, on_map=OnMap.IN_FORCE, values=values, computed_at=computed_at)
        if last_change is not None and as_of < last_change:
            if target.is_catalogue:
                lines = catalogue_compute_on_todays_map(target=target, as_of=as_of, today=today, tree=todays)
            else:
                lines = indicators_compute_on_todays_map_with_tree(
                    target=target, as_of=as_of, today=today, tree=todays
                )[:2]
            for on_map, figures in zip((OnMap.TODAY, OnMap.SPLIT), lines, strict=True):
                written += _replace(target=target, as_of=as_of, on_map=on_map, values=figures, computed_at=computed_at)
    return written


def picked_date_compute(*, plan_id: int, as_of: datetime.date, today: datetime.date | None = None) -> int:
    """The task's work: store `as_of` for every target of the plan (both maps), then mark the
    date done. Idempotent; a date stored meanwhile (or a plan gone) costs one query."""
    today = today or timezone.localdate()
    row = OnDemandDate.objects.filter(plan_id=plan_id, as_of=as_of).select_related("plan").first()
    if row is None:
        return 0
    try:
        picked_date_check(plan=row.plan, as_of=as_of, today=today)
    except ValidationError as error:
        OnDemandDate.objects.filter(pk=row.pk).update(status=OnDemandDate.Status.FAILED, error=error.messages[0])
        return 0
    # Running: from now on the full run and the runs after a write count this date as stored.
    OnDemandDate.objects.filter(pk=row.pk).update(status=OnDemandDate.Status.RUNNING)
    targets = list(row.plan.targets.select_related("plan", "root_branch", "definition"))
    last_change = last_reorganisation_day()
    computed_at = timezone.now()
    todays = todays_tree(today) if last_change is not None and as_of < last_change else None
    written = 0
    try:
        for target in targets:
            if target.is_catalogue and not target.definition.is_available:
                continue
            written += target_date_store(
                target=target, as_of=as_of, today=today, computed_at=computed_at, last_change=last_change, todays=todays
            )
    except Exception as error:
        OnDemandDate.objects.filter(pk=row.pk).update(status=OnDemandDate.Status.FAILED, error=str(error)[:500])
        raise
    OnDemandDate.objects.filter(pk=row.pk).update(status=OnDemandDate.Status.DONE, computed_at=timezone.now())
    return written
