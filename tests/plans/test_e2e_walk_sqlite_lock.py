"""Found walking issue 14 from `make run`: a manager saved a target, the save's recompute ran
in the background thread, and the next target saved soon after failed with "database is
locked" — on SQLite each target was computed inside its write transaction, which takes the
database's one write lock at BEGIN, for longer than the busy timeout. There a target is now
computed first and the write lock held only to store it; on PostgreSQL it is still computed
under its advisory lock. (The suite runs on PostgreSQL: the SQLite choice is forced here.)"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from plans import catalogue, indicators
from plans.models import IndicatorValue, Target
from plans.services import plan_99_load
from tests.plans.test_targets_level import city_target

pytestmark = pytest.mark.django_db(transaction=True)  # no test transaction around the run

TODAY = datetime.date(2026, 12, 1)


def _run(monkeypatch, target: Target, *, before: bool):
    """Recompute `target` with the SQLite choice (`before`) or PostgreSQL's: whether each
    date was computed inside a transaction, the rows written and the values stored."""
    seen = []
    if target.is_catalogue:
        module, name = catalogue, "catalogue_compute"
    else:
        module, name = indicators, "indicators_compute_with_tree"
    compute = getattr(module, name)

    def spying(**kwargs):
        seen.append(connection.in_atomic_block)
        return compute(**kwargs)

    monkeypatch.setattr(module, name, spying)
    monkeypatch.setattr(indicators, "computes_before_storing", lambda: before)  # both kinds store through it
    IndicatorValue.objects.filter(target=target).delete()
    recompute = catalogue.catalogue_target_recompute if target.is_catalogue else indicators.target_recompute
    written = recompute(target=target, today=TODAY, computed_at=datetime.datetime.now(datetime.UTC))
    monkeypatch.setattr(module, name, compute)
    stored = sorted(
        IndicatorValue.objects.filter(target=target).values_list(
            "branch_id", "as_of", "on_map", "numerator", "denominator"
        )
    )
    return seen, written, stored


@pytest.mark.parametrize("kind", ["catalogue", "plan_99"])
def test_on_sqlite_a_target_is_computed_before_its_write_transaction_and_stored_the_same(monkeypatch, tree, kind):
    if kind == "catalogue":
        target = city_target(tree)
    else:
        plan_99_load()
        target = Target.objects.filter(plan__code="99/KH-KHHN").order_by("pk").first()
    assert target.is_catalogue is (kind == "catalogue")
    seen, written, stored = _run(monkeypatch, target, before=True)
    assert seen and not any(seen)  # every date computed outside any transaction
    inside, written_inside, stored_inside = _run(monkeypatch, target, before=False)
    assert inside and all(inside)  # PostgreSQL's way: computed under the target's lock
    assert stored and stored == stored_inside and written == written_inside


def test_the_choice_follows_the_database():
    assert indicators.computes_before_storing() is (connection.vendor == "sqlite")
