"""The re-homing of the learning records a round leaves dated after its effective day (done by
the apply, reorganisation/rehome.py, on the generated city): the set-based merge of the
decisions, which at full size drops and rebuilds the registration table's indexes, gives on
the small city exactly what the first version of the merge gave (kept below as the reference)."""

import pytest
from django.db import connection, transaction

from associations.maps import hanoi_map_load
from associations.models import Branch, Reorganisation
from demo.generator import generate_hanoi, rounds
from learning.models import Decision, EligibleCount, Registration, TitleFigure
from reorganisation import rehome, services
from reorganisation.tables import hanoi_rounds

pytestmark = pytest.mark.slow


def _rehome_decisions_before(day, mapping, *, indexes_deferred=False):
    """The merge as it was first written (one UPDATE of the registrations with every index
    in place, the decisions deleted through the ORM); the keepers read in id order."""
    values = ", ".join(f"({int(u)}, {int(s)})" for u, s in mapping.items())
    moving = list(
        Decision.objects.filter(branch_id__in=mapping, decided_on__gte=day).values_list(
            "id", "branch_id", "kind_id", "year"
        )
    )
    if not moving:
        return 0, 0
    keys = {(mapping[branch], kind, year) for _id, branch, kind, year in moving}
    keeper = {}
    for pk, branch, kind, year in (
        Decision.objects.filter(branch_id__in={key[0] for key in keys}, year__in={key[2] for key in keys})
        .order_by("id")
        .values_list("id", "branch_id", "kind_id", "year")
    ):
        if (branch, kind, year) in keys:
            keeper.setdefault((branch, kind, year), pk)
    merged = []
    for pk, branch, kind, year in sorted(moving):
        key = (mapping[branch], kind, year)
        if key in keeper:
            merged.append((pk, keeper[key]))
        else:
            keeper[key] = pk
    with connection.cursor() as cursor:
        if merged:
            pairs = ", ".join(f"({int(a)}, {int(b)})" for a, b in merged)
            cursor.execute(
                f"""WITH m(old_id, new_id) AS (VALUES {pairs})
                    UPDATE learning_registration SET decision_id = m.new_id
                    FROM m WHERE learning_registration.decision_id = m.old_id"""
            )
            Decision.objects.filter(id__in=[a for a, _b in merged]).delete()
        cursor.execute(
            f"""WITH m(unit, successor) AS (VALUES {values})
                UPDATE learning_decision SET branch_id = m.successor
                FROM m WHERE learning_decision.branch_id = m.unit AND learning_decision.decided_on >= %s""",
            [day],
        )
    return len(moving) - len(merged), len(merged)


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


def _third_round_rehomed() -> dict:
    """Apply the third round (which re-homes its records), re-enter the split units' eligible
    totals as the generator does, then what a reader of 2025–2026 sees
    (branches by path: the round founds its units anew in each run), all rolled back."""
    with transaction.atomic():
        reorganisation = rounds.round_draft(hanoi_rounds()[2])
        decisions_before = Decision.objects.filter(year__gte=2025).count()
        assert services.reorganisation_apply(actor=None, reorganisation=reorganisation).applied
        rounds.split_totals_reentered(reorganisation)
        rounds.rounds_check()
        path = dict(Branch.objects.values_list("id", "path"))
        seen = {
            "decisions before": decisions_before,
            "registrations": {
                (pk, path[branch], decision)
                for pk, branch, decision in Registration.objects.filter(year__gte=2025).values_list(
                    "id", "branch_id", "decision_id"
                )
            },
            "decisions": {
                (pk, path[branch], kind, year, number, day)
                for pk, branch, kind, year, number, day in Decision.objects.filter(year__gte=2025).values_list(
                    "id", "branch_id", "kind_id", "year", "number", "decided_on"
                )
            },
            "eligible counts": {
                (path[branch], kind, year, count)
                for branch, kind, year, count in EligibleCount.objects.filter(year__gte=2025).values_list(
                    "branch_id", "kind_id", "year", "count"
                )
            },
            "title figures": set(
                TitleFigure.objects.filter(year__gte=2025).values_list("branch__path", "kind_id", "year")
            ),
            "indexes": _registration_indexes(),
            "applied": Reorganisation.objects.filter(status=Reorganisation.Status.APPLIED).count(),
        }
        transaction.set_rollback(True)
    return seen


def test_the_merge_with_the_indexes_rebuilt_gives_what_the_first_merge_gave(monkeypatch):
    indexes = _registration_indexes()
    with monkeypatch.context() as patch:
        patch.setattr(rehome, "_rehome_decisions", _rehome_decisions_before)
        before = _third_round_rehomed()
    with monkeypatch.context() as patch:
        patch.setattr(rehome, "REBUILD_INDEXES_ABOVE", 0)  # the full-size path on the small city
        now = _third_round_rehomed()

    assert before["applied"] == now["applied"] == 3
    assert len(now["decisions"]) < now["decisions before"], "the round merges some decisions"
    for key in ("registrations", "decisions", "eligible counts", "title figures"):
        assert now[key] == before[key], key
    assert now["indexes"] == indexes, "every index of the registrations is built again"


def test_the_merge_below_the_threshold_keeps_the_indexes_and_gives_the_same(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(rehome, "_rehome_decisions", _rehome_decisions_before)
        before = _third_round_rehomed()
    now = _third_round_rehomed()
    for key in ("registrations", "decisions", "eligible counts", "title figures"):
        assert now[key] == before[key], key
