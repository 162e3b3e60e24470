"""The generator and the demo recompute Plan 99 themselves at their end: the generator's rounds
schedule no recompute, and the demo drops the one its set-up scheduled, and only that."""

from types import SimpleNamespace

from django.db import transaction

from associations.models import Branch
from demo.generator import rounds as generator_rounds
from demo.generator.rounds import scheduled_recomputes_dropped
from khuyenhoc.signals import registry_changed
from plans.receivers import ChangesAfterCommit


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


def test_a_generated_round_schedules_no_recompute(db, django_capture_on_commit_callbacks, monkeypatch):
    """The generator's rounds apply within `recomputes_not_scheduled`: the apply's signals
    (registry, money, titles) leave no recompute for the commit."""
    sent = []

    def fake_round_apply(round_, **kwargs):
        registry_changed.send(sender=Branch, branch_id=None)
        sent.append(round_.key)
        return SimpleNamespace(reorganisation=None)

    monkeypatch.setattr(generator_rounds, "round_apply", fake_round_apply)
    generator = SimpleNamespace(
        rounds_to_apply=1, deferred_indexes=None, summary=SimpleNamespace(rows={}), log=lambda message: None
    )
    with django_capture_on_commit_callbacks() as callbacks:
        generator_rounds.RoundStages._apply_rounds(generator)
    assert sent, "the round was applied"
    assert [c for c in callbacks if isinstance(c, ChangesAfterCommit)] == []
