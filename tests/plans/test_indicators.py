"""Both headline indicators on a hand-built tree, against figures counted by hand.

Board coverage (scope: agency, public-service, armed-forces units):
    org  branch     kind        board/chapter                          2018-01-01  2018-06-30  2019-12-31
    A1   Phúc Xá    agency      board founded 01/05/2018               den         num         num
    A2   Phúc Xá    public      board 2015, dissolved 30/06/2019       num         num         den
    A3   Phúc Xá    armed       chapter, founding date unknown         num         num         num
    A4   Phúc Xá    enterprise  board                                  (out of scope)
    A5   Phúc Xá    agency      active from 01/03/2020                 (not active yet)
    B1   Trúc Bạch  agency      none                                   den         den         den
    B2   Trúc Bạch  agency      board founded 15/01/2020               den         den         den
    B3   Trúc Bạch  agency      board 2016; organisation ends 31/12/19 num         num         (closed)
    B4   Trúc Bạch  agency      board 2016, dissolved 31/12/2019       num         num         den
    D1   Ba Đình    agency      board 2017                             num         num         num
    C1   Hàng Bạc   public      board 2017                             num         num         num
    C2   Hàng Bạc   agency      a board and a chapter (counted once)   num         num         num
"""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from associations.models import Branch, BranchLevel
from plans.indicators import indicators_compute
from plans.models import Indicator, Plan, Target
from tests.factories import HeadcountFactory, MemberFactory, OrganizationFactory, make_branch
from tests.plans.scenario import build_scenario, scenario_figures

pytestmark = pytest.mark.django_db

D = datetime.date

# (numerator, denominator) counted by hand; see the table above and the comments below.
EXPECTED = {
    "board 2018-01-01": {
        "phuc_xa": (2, 3),
        "truc_bach": (2, 4),
        "ba_dinh": (5, 8),
        "hang_bac": (2, 2),
        "hoan_kiem": (2, 2),
        "city": (7, 10),
    },
    "board 2018-06-30": {
        "phuc_xa": (3, 3),
        "truc_bach": (2, 4),
        "ba_dinh": (6, 8),
        "hang_bac": (2, 2),
        "hoan_kiem": (2, 2),
        "city": (8, 10),
    },
    "board 2019-12-31": {
        "phuc_xa": (2, 3),
        "truc_bach": (0, 3),
        "ba_dinh": (3, 7),
        "hang_bac": (2, 2),
        "hoan_kiem": (2, 2),
        "city": (5, 9),
    },
    # Members: A1 has 3 civil servants, a worker who left 01/06/2019, a cadre who left on
    # 31/12/2019, a student (out of scope) and a party member who joined 01/01/2020; A4 (an
    # enterprise: membership counts every kind) has 2 workers; a civil servant living in Hàng
    # Bạc works at A1 (counted in Phúc Xá); one member has no organisation (not counted); C1 has
    # a public employee. Headcounts: A1 15 (2017), 14 (2019), 100 (2020); A4 6 (2018); A2 4
    # (2016); C1 only 2021 — so Hàng Bạc has a numerator over an empty denominator.
    "membership 2018-01-01": {
        "phuc_xa": (0, 25),
        "truc_bach": (0, 0),
        "ba_dinh": (0, 25),
        "hang_bac": (0, 0),
        "hoan_kiem": (0, 0),
        "city": (0, 25),
    },
    "membership 2018-06-30": {
        "phuc_xa": (8, 25),
        "truc_bach": (0, 0),
        "ba_dinh": (8, 25),
        "hang_bac": (1, 0),
        "hoan_kiem": (1, 0),
        "city": (9, 25),
    },
    "membership 2019-12-31": {
        "phuc_xa": (6, 24),
        "truc_bach": (0, 0),
        "ba_dinh": (6, 24),
        "hang_bac": (1, 0),
        "hoan_kiem": (1, 0),
        "city": (7, 24),
    },
    # Scope of one category: civil servants only (A1's column: 10 in 2017, 8 in 2019).
    "civil_servants 2018-06-30": {"phuc_xa": (4, 10), "ba_dinh": (4, 10), "city": (4, 10)},
    "civil_servants 2019-12-31": {"phuc_xa": (4, 8), "ba_dinh": (4, 8), "city": (4, 8)},
}


@pytest.fixture
def figures():
    return scenario_figures(build_scenario())


def test_both_indicators_match_the_hand_counted_figures_of_every_branch_and_date(figures):
    for key, by_branch in EXPECTED.items():
        for branch, expected in by_branch.items():
            assert tuple(figures[f"{key} {branch}"]) == expected, f"{key} {branch}"


def test_a_board_dissolved_on_the_day_no_longer_counts_but_one_dissolved_the_day_after_does(figures):
    # B4's board was dissolved on 31/12/2019: it counted on 30/06/2018 and not on 31/12/2019.
    assert figures["board 2018-06-30 truc_bach"] == [2, 4]
    assert figures["board 2019-12-31 truc_bach"] == [0, 3]


def test_a_headcount_of_an_earlier_year_stands_until_a_newer_one_and_a_later_year_is_ignored(figures):
    # 2018: A1's 2017 headcount (15); 2019: its 2019 one (14); its 2020 headcount (100) never counts here.
    assert figures["membership 2018-06-30 phuc_xa"][1] == 15 + 6 + 4
    assert figures["membership 2019-12-31 phuc_xa"][1] == 14 + 6 + 4


def _sqlite_figures(tmp_path: Path) -> dict:
    """The same scenario computed by a separate process on a fresh SQLite database."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, SQLITE_PATH=str(tmp_path / "indicators.sqlite3"), DATABASE_URL="", REDIS_URL="")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=root, env=env, check=True)
    script = (
        "import django, json; django.setup();"
        "from tests.plans.scenario import build_scenario, scenario_figures;"
        "print(json.dumps(scenario_figures(build_scenario())))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=dict(env, DJANGO_SETTINGS_MODULE="khuyenhoc.settings"),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sqlite_gives_the_same_figures_as_postgresql(figures, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("compares PostgreSQL with SQLite: run under `make test`")
    assert _sqlite_figures(tmp_path) == figures


def _grown_tree(districts: int, communes: int):
    city = make_branch("Thành phố", BranchLevel.CITY)
    for d in range(districts):
        district = make_branch(f"Quận {d}", BranchLevel.DISTRICT, city)
        for c in range(communes):
            commune = make_branch(f"Phường {d}.{c}", BranchLevel.COMMUNE, district)
            organization = OrganizationFactory(branch=commune)
            make_branch(f"Ban {d}.{c}", BranchLevel.BOARD, commune, organization=organization, founded_on=D(2017, 1, 1))
            MemberFactory(branch=commune, organization=organization)
            HeadcountFactory(organization=organization, year=2018, civil_servants=3)
    city.refresh_from_db()
    plan = Plan.objects.create(
        code="X",
        title="X",
        issuing_branch=city,
        issued_on=D(2017, 1, 1),
        starts_on=D(2017, 1, 1),
        ends_on=D(2020, 12, 31),
    )
    return city, [
        Target.objects.create(
            plan=plan,
            indicator=indicator,
            threshold_percent=60,
            deadline=D(2020, 12, 31),
            root_branch=city,
            **Target.default_scope(indicator),
        )
        for indicator in (Indicator.BOARD_COVERAGE, Indicator.CADRE_MEMBERSHIP)
    ]


@pytest.mark.parametrize(("districts", "communes"), [(1, 1), (5, 9)])
def test_the_computation_runs_the_same_few_queries_for_6_or_96_branches(districts, communes, django_assert_num_queries):
    city, (board, membership) = _grown_tree(districts, communes)
    # Board coverage: the branches, one GROUP BY. Membership: the branches, one GROUP BY of
    # the organisations (their members and latest headcount each).
    with django_assert_num_queries(2):
        board_values = indicators_compute(target=board, as_of=D(2019, 12, 31))
    with django_assert_num_queries(2):
        membership_values = indicators_compute(target=membership, as_of=D(2019, 12, 31))
    communes_total = districts * communes
    assert board_values[city.pk] == (communes_total, communes_total)
    assert membership_values[city.pk] == (communes_total, 3 * communes_total)
    assert len(board_values) == 1 + districts + 2 * communes_total  # every branch, boards included


def test_a_subtree_target_counts_only_its_own_subtree(figures):
    root = Plan.objects.get(code="S/KH").issuing_branch
    ba_dinh = Branch.objects.get(name="S Quận Ba Đình")
    target = Target.objects.filter(indicator=Indicator.BOARD_COVERAGE).first()
    target.root_branch = ba_dinh
    values = indicators_compute(target=target, as_of=D(2019, 12, 31))
    assert values[ba_dinh.pk] == (3, 7)
    assert root.pk not in values
