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

On the embedded SQLite (TASKS_IN_WORKER_PROCESS) the thread does not run the task itself: it
hands it to ONE worker process, started by the web process at its first task (multiprocessing,
"spawn": a fresh interpreter that sets Django up, with the same environment and database), and
waits for its answer. A CPU-bound task such as a 20 000-row apply then no longer shares the web
process's GIL, which doubled the time of every other request while it ran. The worker runs the
task eagerly, as a management command would (a task it starts runs inline); the cache is shared
between the two through files (CACHES in khuyenhoc/settings.py), so the progress page reads what
the worker writes. A worker that died is started again for the next task.

The thread is a daemon and the worker process a daemonic child: stopping the server abandons
the task it was running, whose transaction then rolls back (an import apply writes everything
or nothing); a worker whose web process was killed ends after its task (its pipe closes).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connections

from khuyenhoc.celery import app as celery_app

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


class TaskProcessError(RuntimeError):
    """A task failed in the worker process (its exception, as text) or the process died."""


_process: multiprocessing.process.BaseProcess | None = None
_pipe = None  # the web process's end of the pipe to the worker process


def run_in_worker_process(name: str, args, kwargs, options: dict):
    """Run the Celery task `name` in the worker process and return its result. Called from the
    background thread only, so one task at a time; starts the process when there is none."""
    global _process, _pipe
    if _process is None or not _process.is_alive():
        context = multiprocessing.get_context("spawn")
        _pipe, child_end = context.Pipe()
        _process = context.Process(target=_process_main, args=(child_end,), name="khuyenhoc-worker", daemon=True)
        _process.start()
        child_end.close()
    try:
        _pipe.send((name, args or (), kwargs or {}, options))
        succeeded, value = _pipe.recv()
    except (EOFError, OSError) as error:
        _process = None
        raise TaskProcessError(f"The worker process ended while it ran {name}") from error
    if not succeeded:
        raise TaskProcessError(value)
    return value


def _process_main(pipe) -> None:
    """The worker process: set Django up, then run the tasks received one after another until
    the web process goes away."""
    import importlib

    import django

    django.setup()
    app = celery_app

    # TASKS_WORKER_NICE > 0 lets the pages' process be scheduled first on a busy machine.
    if getattr(settings, "TASKS_WORKER_NICE", 0):
        os.nice(settings.TASKS_WORKER_NICE)
    app.loader.import_default_modules()  # every app's tasks module, as a Celery worker imports them

    while True:
        try:
            name, args, kwargs, options = pipe.recv()
        except (EOFError, OSError):
            return
        close_old_connections()
        try:
            if name not in app.tasks:
                importlib.import_module(name.rsplit(".", 1)[0])
            value = app.tasks[name].apply(args, kwargs, **options).get(disable_sync_subtasks=False)
            answer = (True, value)
        except BaseException as error:
            logger.exception("Task %s failed in the worker process", name)
            answer = (False, f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()
        try:
            pipe.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError, ValueError):  # a result that does not pickle
            pipe.send((True, None))
        except (EOFError, OSError):
            return


class PortalTask(Task):
    """The portal's Celery task class (khuyenhoc.celery): eager tasks go to the background
    thread in the embedded mode (and from it to the worker process on SQLite); everything
    else is Celery's own behaviour."""

    def apply_async(self, args=None, kwargs=None, *more, **options):
        if _web_process and self.app.conf.task_always_eager and getattr(settings, "TASKS_IN_BACKGROUND_THREAD", False):
            if getattr(settings, "TASKS_IN_WORKER_PROCESS", False) and not more:
                return submit(run_in_worker_process, self.name, args, kwargs, options)
            return submit(super().apply_async, args, kwargs, *more, **options)
        return super().apply_async(args, kwargs, *more, **options)
