"""A caller that recomputes every figure itself (the demo generator's rounds) writes within
`recomputes_not_scheduled`: its signals schedule nothing; outside it they schedule as before."""

from django.db import transaction

from associations.models import Branch
from khuyenhoc.signals import money_changed, registry_changed, titles_changed
from plans.receivers import ChangesAfterCommit, recomputes_not_scheduled


def _scheduled(callbacks) -> list:
    return [callback for callback in callbacks if isinstance(callback, ChangesAfterCommit)]


def test_signals_sent_within_the_block_schedule_no_recompute(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, recomputes_not_scheduled():
        registry_changed.send(sender=Branch, branch_id=None)
        money_changed.send(sender=Branch, branch_id=None)
        titles_changed.send(sender=Branch, branch_id=None)
    assert _scheduled(callbacks) == []


def test_other_hooks_of_the_transaction_still_run_after_the_commit(db, django_capture_on_commit_callbacks):
    ran = []
    with django_capture_on_commit_callbacks(execute=True), recomputes_not_scheduled():
        registry_changed.send(sender=Branch, branch_id=None)
        transaction.on_commit(lambda: ran.append("other"))
    assert ran == ["other"]


def test_after_the_block_a_change_schedules_its_recompute_again(db, django_capture_on_commit_callbacks):
    with recomputes_not_scheduled():
        pass
    with django_capture_on_commit_callbacks() as callbacks:
        registry_changed.send(sender=Branch, branch_id=None)
    assert len(_scheduled(callbacks)) == 1
    assert _scheduled(callbacks)[0].city_wide


def test_the_block_ends_even_when_its_writes_fail(db, django_capture_on_commit_callbacks):
    try:
        with recomputes_not_scheduled():
            raise ValueError("a failed write")
    except ValueError:
        pass
    with django_capture_on_commit_callbacks() as callbacks:
        registry_changed.send(sender=Branch, branch_id=None)
    assert len(_scheduled(callbacks)) == 1
