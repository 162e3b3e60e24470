"""The re-homing of the learning records a round leaves dated after its effective day (done by
the apply, reorganisation/rehome.py), on the generated city: each recognition decision moves
whole to a successor — its number, day, body and signer, and the registrations it recognises,
as they were; none merged, none deleted — and a second apply changes nothing."""

import pytest
from django.db import connection, transaction

from associations.maps import hanoi_map_load
from associations.models import Branch
from demo.generator import generate_hanoi, rounds
from learning.models import Decision, Registration
from reorganisation import services
from reorganisation.tables import hanoi_rounds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def city_before_the_third_round(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        hanoi_map_load(vintage="2017")
        generate_hanoi(scale="small", seed=7, rounds=2)
        yield Branch.objects.city_root()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _in_a_savepoint(city_before_the_third_round, db):
    """The `db` fixture's per-test transaction is a savepoint of the module's."""


def _registration_indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'learning_registration' ORDER BY indexname")
        return [row[0] for row in cursor.fetchall()]


def _documents() -> dict[int, tuple]:
    """Each decision as its reader sees it, with the registrations it recognises."""
    recognised: dict[int, set[int]] = {}
    for pk, decision in Registration.objects.filter(decision__isnull=False).values_list("id", "decision_id"):
        recognised.setdefault(decision, set()).add(pk)
    return {
        pk: (number, day, body, signer, kind, year, frozenset(recognised.get(pk, ())))
        for pk, number, day, body, signer, kind, year in Decision.objects.values_list(
            "id", "number", "decided_on", "body", "signer", "kind_id", "year"
        )
    }


def test_the_third_round_moves_every_decision_whole_and_a_second_apply_changes_nothing():
    indexes = _registration_indexes()
    before = _documents()
    round_ = hanoi_rounds()[2]
    reorganisation = rounds.round_draft(round_)
    plan = services.reorganisation_plan(reorganisation=reorganisation)
    dissolving = [unit.predecessor for unit in plan.units if unit.mode in {services.WHOLE_MODE, services.DECIDE_MODE}]
    moving = set(
        Decision.objects.filter(branch__in=dissolving, decided_on__gte=round_.effective_on).values_list("id", flat=True)
    )
    assert dissolving and moving, "the small city has decisions after the day on units the round dissolves"

    result = services.reorganisation_apply(actor=None, reorganisation=reorganisation)

    assert result.applied, result.message
    assert _documents() == before, "no decision merged, deleted or changed; each keeps its registrations"
    assert result.counts["learning_decisions"] == len(moving)
    assert result.counts["learning_decisions_qualified"] == 0, "the generated bodies name their commune"
    assert not Decision.objects.filter(id__in=moving, branch__dissolved_on__isnull=False).exists()
    assert _registration_indexes() == indexes
    rounds.split_totals_reentered(reorganisation)
    rounds.rounds_check()
    branches = dict(Decision.objects.values_list("id", "branch_id"))

    again = services.reorganisation_apply(actor=None, reorganisation=reorganisation)

    assert not again.applied
    assert _documents() == before and dict(Decision.objects.values_list("id", "branch_id")) == branches
