"""The embedded mode's background thread (khuyenhoc.background): tasks leave the request."""

import threading

from celery import shared_task

from khuyenhoc import background

ran_in_threads: list[tuple[int, str]] = []


@shared_task
def note_thread(value: int) -> int:
    ran_in_threads.append((value, threading.current_thread().name))
    return value


def test_a_submitted_function_runs_in_the_background_thread_and_the_thread_is_busy_until_it_ends():
    release = threading.Event()
    ran_in = []

    def held():
        ran_in.append(threading.current_thread().name)
        release.wait(60)
        return "done"

    future = background.submit(held)
    assert background.busy()
    assert not background.wait_idle(timeout=0.2)
    release.set()
    assert future.result(timeout=60) == "done"
    assert background.wait_idle(timeout=60)
    assert not background.busy()
    assert ran_in == ["khuyenhoc-background"]


def test_a_failing_function_is_reported_on_its_future_and_the_next_one_still_runs():
    def broken():
        raise ValueError("bad cell")

    failed = background.submit(broken)
    after = background.submit(lambda: 42)
    assert after.result(timeout=60) == 42
    assert isinstance(failed.exception(timeout=60), ValueError)


def test_in_the_embedded_mode_an_eager_task_is_handed_to_the_background_thread(settings, eager, monkeypatch):
    settings.TASKS_IN_BACKGROUND_THREAD = True
    monkeypatch.setattr(background, "_web_process", True)  # as khuyenhoc.wsgi sets it
    ran_in_threads.clear()
    future = note_thread.delay(7)
    assert background.wait_idle(timeout=60)
    assert ran_in_threads == [(7, "khuyenhoc-background")]
    assert future.result(timeout=60).get() == 7


def test_with_a_worker_or_in_tests_an_eager_task_still_runs_in_the_request(settings, eager, monkeypatch):
    settings.TASKS_IN_BACKGROUND_THREAD = False
    monkeypatch.setattr(background, "_web_process", True)
    ran_in_threads.clear()
    assert note_thread.delay(8).get() == 8
    assert ran_in_threads == [(8, threading.current_thread().name)]


def test_outside_a_web_process_an_eager_task_runs_inline_so_a_command_loses_none(settings, eager, monkeypatch):
    settings.TASKS_IN_BACKGROUND_THREAD = True
    monkeypatch.setattr(background, "_web_process", False)  # a management command
    ran_in_threads.clear()
    assert note_thread.delay(9).get() == 9
    assert ran_in_threads == [(9, threading.current_thread().name)]
