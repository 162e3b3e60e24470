"""Listens to the registry and the money apps (which never import plans) and schedules a
recompute after their transaction commits.

Within one transaction the hook is registered once, however many rows change: a
100 000-row import sends its signals inside one transaction and so schedules one recompute
(and `recompute_schedule`'s lock folds the changes of many transactions into one run).
"""

from __future__ import annotations

from django.db import transaction

from plans import services


def _after_commit() -> None:
    services.recompute_schedule()


def data_changed(sender, **kwargs) -> None:
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is _after_commit for _sids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_after_commit, robust=True)
