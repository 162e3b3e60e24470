"""Listens to the registry and the money apps (which never import plans) and schedules a
recompute after their transaction commits.

A write of members or headcounts (the registry) or of donations and awards (money)
schedules a run of only what it can change (plans.scoped): the subtree and the ancestors
of the lowest branch above every branch the transaction announced, one run per kind of
write. Any other change (organisations, which the learning titles count too, the tree
itself, learning titles, centres, a reorganisation) schedules the city-wide run.

A write may say from which day its figures can change (`from_day`: a member's day of
joining, a donation's day of receipt); the transaction's run recomputes the stored dates
from the earliest such day of its writes (every date when one write does not say).

Within one transaction the hook is registered once, however many rows change: a
100 000-row import sends its signals inside one transaction and so schedules one recompute
(and the schedule's lock folds the changes of many transactions into one run).

A caller that recomputes every figure itself once it is done (the demo generator's rounds,
then its `indicators_recompute_all`) runs its writes within `recomputes_not_scheduled()`: the
signals they send then schedule nothing (no eager recompute under CELERY_TASK_ALWAYS_EAGER).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.utils import timezone

from associations.models import Branch, Member, OrganizationHeadcount
from khuyenhoc.signals import money_changed, registry_changed
from plans import services

# The registry's writes plans.scoped recomputes. Not organisations: the learning titles'
# eligible totals count them too (learning.measures, learning.figures), so they take the
# city-wide run, which also rebuilds the title figures.
_REGISTRY_SENDERS = (Member, OrganizationHeadcount)

# Set by `recomputes_not_scheduled`: the writes of this context schedule no recompute.
_not_scheduled: ContextVar[bool] = ContextVar("plans_recomputes_not_scheduled", default=False)


@contextmanager
def recomputes_not_scheduled() -> Iterator[None]:
    """Within the block, the data signals schedule no recompute of Plan 99's indicators and
    the learning titles' figures (none after the commit either). Only for a caller that runs
    `plans.services.indicators_recompute_all` itself after the block (the demo generator's
    bulk load and rounds); every other write, and every other thread, schedules as usual."""
    token = _not_scheduled.set(True)
    try:
        yield
    finally:
        _not_scheduled.reset(token)


def _kind(signal, sender) -> str:
    """ "registry", "money", or "" for a change that needs the city-wide run."""
    if signal is registry_changed and sender in _REGISTRY_SENDERS:
        return "registry"
    if signal is money_changed and getattr(sender, "__name__", "") != "Reorganisation":
        return "money"
    return ""


def lowest_common_branch(branch_ids: set[int]) -> int | None:
    """The lowest branch whose subtree holds every one of `branch_ids` (one query); None
    when one is unknown or not in force today (its records may count elsewhere on today's
    map: the city-wide run handles it), or when they share no root."""
    today = timezone.localdate()
    rows = list(Branch.objects.order_by().filter(pk__in=branch_ids).values_list("path", "founded_on", "dissolved_on"))
    if len(rows) != len(branch_ids) or any(
        (founded is not None and founded > today) or (dissolved is not None and dissolved <= today)
        for _path, founded, dissolved in rows
    ):
        return None
    common = rows[0][0]
    for path, _founded, _dissolved in rows[1:]:
        end = 0
        while end < min(len(common), len(path)) and common[end] == path[end]:
            end += 1
        common = common[: end - end % Branch.steplen]
    if not common:
        return None
    return Branch.objects.filter(path=common).values_list("pk", flat=True).first()


class ChangesAfterCommit:
    """The changes of one transaction, scheduled once it commits."""

    def __init__(self) -> None:
        self.city_wide = False
        self.branches: dict[str, set[int]] = {}
        # Per kind, the earliest day a write can change; None: any day.
        self.from_days: dict[str, datetime.date | None] = {}

    def add(self, *, kind: str, branch_id: int | None, from_day: datetime.date | None = None) -> None:
        if not kind or branch_id is None:
            self.city_wide = True
            return
        self.branches.setdefault(kind, set()).add(branch_id)
        if kind not in self.from_days:
            self.from_days[kind] = from_day
        elif self.from_days[kind] is not None:
            self.from_days[kind] = None if from_day is None else min(self.from_days[kind], from_day)

    def __call__(self) -> None:
        if self.city_wide:
            services.recompute_schedule()
            return
        for kind, branch_ids in sorted(self.branches.items()):
            branch_id = lowest_common_branch(branch_ids)
            if branch_id is None:
                services.recompute_schedule()
            else:
                services.recompute_schedule_scoped(branch_id=branch_id, changed=kind, from_day=self.from_days[kind])


def data_changed(
    sender, signal=None, branch_id: int | None = None, from_day: datetime.date | None = None, **kwargs
) -> None:
    if _not_scheduled.get():
        return
    connection = transaction.get_connection()
    kind = _kind(signal, sender)
    if connection.in_atomic_block:
        for _sids, func, _robust in connection.run_on_commit:
            if isinstance(func, ChangesAfterCommit):
                func.add(kind=kind, branch_id=branch_id, from_day=from_day)
                return
    changes = ChangesAfterCommit()
    changes.add(kind=kind, branch_id=branch_id, from_day=from_day)
    transaction.on_commit(changes, robust=True)
