"""The generator and the demo recompute Plan 99 themselves at their end: the recompute a
round's commit would schedule is dropped, and only that."""

from django.db import transaction

from associations.models import Branch
from demo.generator.rounds import scheduled_recomputes_dropped
from khuyenhoc.signals import registry_changed


def test_the_recompute_a_change_scheduled_is_dropped_and_other_hooks_stay(db, django_capture_on_commit_callbacks):
    other = []
    with django_capture_on_commit_callbacks() as callbacks:
        registry_changed.send(sender=Branch, branch_id=None)  # the tree changed: a city-wide run
        transaction.on_commit(lambda: other.append("ran"))
        assert scheduled_recomputes_dropped() == 1
    assert len(callbacks) == 1
    callbacks[0]()
    assert other == ["ran"]


def test_nothing_is_dropped_when_nothing_was_scheduled(db):
    assert scheduled_recomputes_dropped() == 0
