"""Hanoi's three rounds on the real map files: 584 → 579 → 526 → 126 communes in force."""

import datetime
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from associations.maps import hanoi_map_load
from associations.models import Branch, BranchLevel, LineageEdge, Reorganisation
from reorganisation.rounds import PolicyRow, hanoi_rounds_run, parse_policy

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "reorganisation" / "data" / "example-policy.csv"

pytestmark = pytest.mark.slow


def _communes_on(day):
    return Branch.objects.active_on(day).filter(level=BranchLevel.COMMUNE).count()


def _districts_on(day):
    return Branch.objects.active_on(day).filter(level=BranchLevel.DISTRICT).count()


def test_the_three_rounds_leave_126_communes_directly_under_the_city(db):
    hanoi_map_load(vintage="2017")
    hanoi_map_load(vintage="2025")
    # Phường Bùi Thị Xuân vanished in 2020 and no rule places it: the operator's policy does.
    policy = [PolicyRow(row=2, round="2020", old_code="00250", successor_code="00247", accounts="")]

    outcomes = hanoi_rounds_run(actor=None, policy=policy, apply=True)

    assert [outcome.result.applied for outcome in outcomes] == [True, True, True]
    assert _communes_on(datetime.date(2019, 12, 31)) == 584
    assert _communes_on(datetime.date(2020, 1, 1)) == 579
    assert _communes_on(datetime.date(2024, 12, 31)) == 579
    assert _communes_on(datetime.date(2025, 1, 1)) == 526
    assert _communes_on(datetime.date(2025, 6, 30)) == 526
    assert _communes_on(datetime.date(2025, 7, 1)) == 126
    assert _districts_on(datetime.date(2025, 6, 30)) == 30
    assert _districts_on(datetime.date(2025, 7, 1)) == 0
    city = Branch.objects.city_root()
    assert all(
        b.depth == city.depth + 1 for b in Branch.objects.active_on(datetime.date(2025, 7, 1)).exclude(pk=city.pk)
    )
    # A renamed unit is a new branch: the tree as of 2024 keeps the old name.
    old = Branch.objects.active_on(datetime.date(2024, 12, 31)).get(code="00181")
    new = Branch.objects.active_on(datetime.date(2025, 1, 1)).get(code="00181")
    assert (old.name, new.name) == ("Phường Văn Miếu", "Phường Văn Miếu - Quốc Tử Giám")
    assert LineageEdge.objects.filter(predecessor=old, successor=new, derived=True).exists()
    quoc_tu_giam = Branch.objects.get(code="00184")
    assert LineageEdge.objects.get(predecessor=quoc_tu_giam).successor == new
    assert not LineageEdge.objects.filter(reorganisation__effective_on=datetime.date(2025, 7, 1), derived=True).exists()
    assert Reorganisation.objects.get(effective_on=datetime.date(2025, 7, 1)).legal_basis == "1656/NQ-UBTVQH15"

    again = hanoi_rounds_run(actor=None, policy=policy, apply=True)
    assert [outcome.result.applied for outcome in again] == [False, False, False]
    assert _communes_on(datetime.date(2025, 7, 1)) == 126


def test_the_command_plans_the_first_round_and_changes_nothing(db):
    hanoi_map_load(vintage="2017")
    before = Branch.objects.count()
    output = io.StringIO()

    call_command("reorganise", hanoi_rounds=True, policy=str(EXAMPLE_POLICY), stdout=output)

    text = output.getvalue()
    assert "Xã Cẩm Đình (09736) → decisions [decide]: empty" in text
    assert "8 old units, 3 new units to found" in text
    assert "Dry run: nothing was changed." in text
    assert Branch.objects.count() == before
    assert not Reorganisation.objects.exists()


def test_a_policy_with_an_unknown_account_action_is_refused():
    with pytest.raises(ValidationError, match="Dòng 2: không rõ cách xử lý tài khoản 'promote'"):
        parse_policy(b"round,old_code,successor_code,accounts\n2020,00250,00247,promote\n")
