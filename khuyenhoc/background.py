"""Celery tasks off the request in the embedded mode (`make run`: no Redis, tasks eager).

Eager Celery runs a task inside the request that started it: an import's check and apply, a
large list export, a report PDF or an indicator recompute kept the clerk's browser waiting
for all of it, and without a progress page. In the embedded mode every task the portal starts
(`.delay()` / `.apply_async()`) is instead handed to ONE background thread of the web
process, which runs the tasks one after another, as a single Celery worker would: the request
returns at once with the same progress page as in production, whose polling then answers
while the task runs (SQLite in WAL mode lets readers read while the task writes; see
DATABASES in khuyenhoc/settings.py).

The switch is the setting TASKS_IN_BACKGROUND_THREAD (on when REDIS_URL is unset) together
with Celery's task_always_eager, in a web process only (khuyenhoc.wsgi / asgi call
`serve_in_background()`): a management command (demo_setup, reorganise…) still runs its tasks
inline, so none is lost when it exits. With a broker nothing changes, and tests that make tasks
eager (the `eager` fixture) still run them inline.

The thread is a daemon: stopping the server abandons the task it was running, whose
transaction then rolls back (an import apply writes everything or nothing).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

_jobs: queue.SimpleQueue = queue.SimpleQueue()
_start_lock = threading.Lock()
_worker: threading.Thread | None = None
_pending = 0  # submitted and not yet finished
_pending_lock = threading.Condition()


_web_process = False


def serve_in_background() -> None:
    """Called by the WSGI/ASGI entry point: this process serves pages, its tasks leave the request."""
    global _web_process
    _web_process = True


def submit(function: Callable[..., Any], /, *args, **kwargs) -> Future:
    """Run `function(*args, **kwargs)` in the background thread after the work already queued."""
    global _worker, _pending
    future: Future = Future()
    with _pending_lock:
        _pending += 1
    _jobs.put((future, function, args, kwargs))
    with _start_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="khuyenhoc-background", daemon=True)
            _worker.start()
    return future


def busy() -> bool:
    """Whether a task is running or waiting in the background thread."""
    with _pending_lock:
        return _pending > 0


def wait_idle(timeout: float | None = None) -> bool:
    """Wait until every submitted task has finished (tests and benchmarks); False on timeout."""
    with _pending_lock:
        return _pending_lock.wait_for(lambda: _pending == 0, timeout)


def _work() -> None:
    global _pending
    while True:
        future, function, args, kwargs = _jobs.get()
        try:
            if future.set_running_or_notify_cancel():
                close_old_connections()
                try:
                    future.set_result(function(*args, **kwargs))
                except BaseException as error:
                    logger.exception("Background task %r failed", getattr(function, "__name__", function))
                    future.set_exception(error)
        finally:
            # Each task opens its own connection and leaves none behind (SQLite holds a file
            # handle and, in WAL mode, a read snapshot per connection).
            connections.close_all()
            with _pending_lock:
                _pending -= 1
                _pending_lock.notify_all()


class PortalTask(Task):
    """The portal's Celery task class (khuyenhoc.celery): eager tasks go to the background
    thread in the embedded mode; everything else is Celery's own behaviour."""

    def apply_async(self, args=None, kwargs=None, *more, **options):
        if _web_process and self.app.conf.task_always_eager and getattr(settings, "TASKS_IN_BACKGROUND_THREAD", False):
            return submit(super().apply_async, args, kwargs, *more, **options)
        return super().apply_async(args, kwargs, *more, **options)
