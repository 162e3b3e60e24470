"""The embedded mode's background thread (khuyenhoc.background): tasks leave the request."""

import threading

from celery import shared_task

from khuyenhoc import background

RAN_IN: list[tuple[int, str]] = []


@shared_task
def note_thread(value: int) -> int:
    RAN_IN.append((value, threading.current_thread().name))
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


def test_in_the_embedded_mode_an_eager_task_is_handed_to_the_background_thread(settings, eager):
    settings.TASKS_IN_BACKGROUND_THREAD = True
    RAN_IN.clear()
    future = note_thread.delay(7)
    assert background.wait_idle(timeout=60)
    assert RAN_IN == [(7, "khuyenhoc-background")]
    assert future.result(timeout=60).get() == 7


def test_with_a_worker_or_in_tests_an_eager_task_still_runs_in_the_request(settings, eager):
    settings.TASKS_IN_BACKGROUND_THREAD = False
    RAN_IN.clear()
    assert note_thread.delay(8).get() == 8
    assert RAN_IN == [(8, threading.current_thread().name)]
