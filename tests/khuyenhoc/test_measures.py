"""The catalogue of measures as the apps register it: every measure against figures counted by
hand on the cast's tree, rolled up with associations.rollup.roll_up_by_path; a fixed number
of queries whatever the tree's size; filters honoured and unknown values ignored.

The cast's tree: city → Ba Đình (→ Phúc Xá, Trúc Bạch), Hoàn Kiếm (→ Hàng Bạc).

Registry, on 31/12/2019 (D) unless said:
    org  branch     kind        board / chapter                 active        headcounts
    A1   Phúc Xá    agency      board 01/01/2018                since 2010    2017: 10 civil s. + 2 workers; 2020: 99
    A2   Phúc Xá    enterprise  —                               since 2010    —
    B1   Trúc Bạch  public      chapter (no date), ends 30/6/19 since 2010    2019: 5 cadres
    C1   Hàng Bạc   agency      board 2016                      to 01/06/2019 2018: 3 civil servants
    D1   Ba Đình    school      board 01/02/2020                from 2020     2021: 7 workers
    and a chapter of Hàng Bạc with no organisation, founded 2015.
    member  register   workplace  category         joined      left
    m1      Phúc Xá    A1         civil servant    01/03/2018  —
    m2      Phúc Xá    A1         worker           01/02/2019  01/06/2019
    m3      Phúc Xá    —          pupil            01/05/2019  —
    m4      Hàng Bạc   A1         civil servant    10/01/2019  —
    m5      Trúc Bạch  B1         cadre            01/06/2017  —
    m6      Ba Đình    —          farmer           31/12/2019  —

Money, 2019: Phúc Xá's two funds receive 1 000 000 (15/03) and 500 000 (01/07); Trúc Bạch's
200 000 on 31/12/2018 (outside); Hoàn Kiếm's 300 000 (01/01) and 700 000 (05/05, voided);
the city's 50 000 (31/12). Phúc Xá's round pays 300 000 (hardship) and 200 000 (excellent) on
05/09/2019 and 100 000 (hardship) on 10/01/2020; Hoàn Kiếm's pays 100 000 (hardship) on
01/10/2019 and 150 000 voided.

Learning titles, 2024: "Gia đình học tập" eligible entered Phúc Xá 10, Trúc Bạch 5; Phúc Xá
registers 4 (1 recognised, 1 evaluated, 1 registered, 1 withdrawn after evaluation), Hàng
Bạc 1, and Phúc Xá 1 in 2023. "Đơn vị học tập": Trúc Bạch entered 7 (replacing B1); the
organisations active in 2024 elsewhere are A1, A2 (Phúc Xá) and D1 (Ba Đình); A1 is
recognised.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from associations.models import Branch, BranchLevel, MemberCategory, OrganizationKind
from associations.rollup import roll_up_by_path
from funds import services as fund_services
from funds.models import Fund, LegalForm
from khuyenhoc.measures import Timing, Unit, clean_filters, measure, registered
from learning.figures import FIGURE_FIELDS, title_figures_compute
from learning.models import (
    CriteriaSet,
    Decision,
    EligibleCount,
    Evaluation,
    Household,
    Registration,
    Stage,
    SubjectType,
    TitleKind,
)
from scholarships import services as scholarship_services
from scholarships.models import AwardCategory
from tests.factories import (
    HeadcountFactory,
    MemberFactory,
    OrganizationFactory,
    donate,
    make_branch,
    make_round,
    org_with_board,
    pay,
)

pytestmark = pytest.mark.django_db

D = datetime.date
END = D(2019, 12, 31)
YEAR_2019 = {"start": D(2019, 1, 1), "end": END}
TITLES_END = D(2024, 12, 31)
BRANCHES = ("city", "ba_dinh", "phuc_xa", "truc_bach", "hoan_kiem", "hang_bac")

EXPECTED_CODES = {
    "registry.members",
    "registry.members_new",
    "registry.chapters",
    "registry.boards",
    "registry.organizations",
    "registry.organizations_with_board",
    "registry.plan_members",
    "registry.headcount",
    "funds.raised",
    "funds.donations",
    "scholarships.paid",
    "scholarships.turns",
    "scholarships.hardship_turns",
    "learning.eligible",
    "learning.registered",
    "learning.evaluated",
    "learning.recognised",
}


# --- The small world ------------------------------------------------------------------------------


def _registry(tree) -> SimpleNamespace:
    a1 = org_with_board(tree.phuc_xa, name="A1 UBND phường Phúc Xá", founded_on=D(2018, 1, 1))
    a2 = OrganizationFactory(name="A2 Công ty may", branch=tree.phuc_xa, kind=OrganizationKind.ENTERPRISE)
    b1 = OrganizationFactory(name="B1 Trạm y tế", branch=tree.truc_bach, kind=OrganizationKind.PUBLIC_SERVICE)
    make_branch("Chi hội B1", BranchLevel.CHAPTER, tree.truc_bach, organization=b1, dissolved_on=D(2019, 6, 30))
    c1 = org_with_board(tree.hang_bac, name="C1 Phòng văn hoá", founded_on=D(2016, 1, 1), active_to=D(2019, 6, 1))
    d1 = org_with_board(
        tree.ba_dinh,
        name="D1 Trường THCS",
        kind=OrganizationKind.SCHOOL,
        founded_on=D(2020, 2, 1),
        active_from=D(2020, 1, 1),
    )
    make_branch("Chi hội Hàng Bạc", BranchLevel.CHAPTER, tree.hang_bac, founded_on=D(2015, 1, 1))

    MemberFactory(branch=tree.phuc_xa, organization=a1, category=MemberCategory.CIVIL_SERVANT)
    MemberFactory(
        branch=tree.phuc_xa,
        organization=a1,
        category=MemberCategory.WORKER,
        joined_on=D(2019, 2, 1),
        left_on=D(2019, 6, 1),
    )
    MemberFactory(branch=tree.phuc_xa, category=MemberCategory.STUDENT, joined_on=D(2019, 5, 1))
    MemberFactory(
        branch=tree.hang_bac, organization=a1, category=MemberCategory.CIVIL_SERVANT, joined_on=D(2019, 1, 10)
    )
    MemberFactory(branch=tree.truc_bach, organization=b1, category=MemberCategory.CADRE, joined_on=D(2017, 6, 1))
    MemberFactory(branch=tree.ba_dinh, category=MemberCategory.FARMER, joined_on=D(2019, 12, 31))

    HeadcountFactory(organization=a1, year=2017, civil_servants=10, workers=2)
    HeadcountFactory(organization=a1, year=2020, civil_servants=99)
    HeadcountFactory(organization=b1, year=2019, cadres=5)
    HeadcountFactory(organization=c1, year=2018, civil_servants=3)
    HeadcountFactory(organization=d1, year=2021, workers=7)
    return SimpleNamespace(a1=a1, a2=a2, b1=b1, c1=c1, d1=d1)


def _money(cast, funds, tree) -> None:
    actor = cast.admin
    donate(actor, funds.phuc_xa, 1_000_000, D(2019, 3, 15))
    donate(actor, funds.phuc_xa_clan, 500_000, D(2019, 7, 1))
    donate(actor, funds.truc_bach, 200_000, D(2018, 12, 31))
    donate(actor, funds.hoan_kiem, 300_000, D(2019, 1, 1))
    voided = donate(actor, funds.hoan_kiem, 700_000, D(2019, 5, 5))
    fund_services.donation_void(actor=actor, donation=voided, reason="Nhập nhầm số tiền")
    donate(actor, funds.city, 50_000, END)

    phuc_xa_round = make_round(actor, tree.phuc_xa, funds.phuc_xa, school_year="2019-2020", awarded_on=D(2019, 9, 1))
    pay(actor, phuc_xa_round, 300_000, D(2019, 9, 5), category=AwardCategory.HARDSHIP)
    pay(actor, phuc_xa_round, 200_000, D(2019, 9, 5), category=AwardCategory.EXCELLENT)
    pay(actor, phuc_xa_round, 100_000, D(2020, 1, 10), category=AwardCategory.HARDSHIP)
    hoan_kiem_round = make_round(
        actor, tree.hoan_kiem, funds.hoan_kiem, school_year="2019-2020", awarded_on=D(2019, 9, 1)
    )
    pay(actor, hoan_kiem_round, 100_000, D(2019, 10, 1), category=AwardCategory.HARDSHIP)
    wrong = pay(actor, hoan_kiem_round, 150_000, D(2019, 10, 1), category=AwardCategory.HARDSHIP)
    scholarship_services.award_void(actor=actor, award=wrong, reason="Trao trùng")


def title_kind(code: str, subject_type: str) -> TitleKind:
    """The seeded title of that code (the data migration enters the national ones), or a new one."""
    return TitleKind.objects.update_or_create(code=code, defaults={"name": code, "subject_type": subject_type})[0]


def register(kind, branch, *, stage=Stage.REGISTERED, year=2024, evaluated=False, subject=None) -> Registration:
    if subject is None:
        subject = Household.objects.create(branch=branch, head_name="Nguyễn Văn Hộ", address="Số 1", people=4)
    field = "organization" if kind.subject_type == SubjectType.UNIT else "household"
    decision = None
    if stage == Stage.RECOGNISED:
        decision = Decision.objects.create(
            branch=branch, kind=kind, year=year, number=f"{Decision.objects.count() + 1}/QĐ-UBND",
            decided_on=D(year, 12, 1), body="Ủy ban nhân dân phường", signer="Nguyễn Văn A",
        )  # fmt: skip
    registration = Registration.objects.create(
        kind=kind, year=year, branch=branch, stage=stage, registered_on=D(year, 3, 1), decision=decision,
        **{field: subject},
    )  # fmt: skip
    if evaluated or stage in (Stage.EVALUATED, Stage.RECOGNISED):
        criteria, _ = CriteriaSet.objects.get_or_create(
            kind=kind, version=1, defaults={"name": f"Tiêu chí {kind.name}", "valid_from": 2021, "pass_points": 70}
        )
        Evaluation.objects.create(
            registration=registration, criteria_set=criteria, total_points=80, passed=True,
            evaluated_on=D(year, 10, 1), evaluator="Ban khuyến học phường",
        )  # fmt: skip
    return registration


def _titles(tree, orgs) -> SimpleNamespace:
    household = title_kind("gia-dinh-hoc-tap", SubjectType.HOUSEHOLD)
    unit = title_kind("don-vi-hoc-tap", SubjectType.UNIT)
    EligibleCount.objects.create(branch=tree.phuc_xa, kind=household, year=2024, count=10)
    EligibleCount.objects.create(branch=tree.truc_bach, kind=household, year=2024, count=5)
    register(household, tree.phuc_xa, stage=Stage.RECOGNISED)
    register(household, tree.phuc_xa, stage=Stage.EVALUATED)
    register(household, tree.phuc_xa)
    register(household, tree.phuc_xa, stage=Stage.WITHDRAWN, evaluated=True)
    register(household, tree.hang_bac)
    register(household, tree.phuc_xa, year=2023)
    EligibleCount.objects.create(branch=tree.truc_bach, kind=unit, year=2024, count=7)
    register(unit, tree.phuc_xa, stage=Stage.RECOGNISED, subject=orgs.a1)
    return SimpleNamespace(household=household, unit=unit)


@pytest.fixture
def world(tree, cast, funds):
    orgs = _registry(tree)
    _money(cast, funds, tree)
    titles = _titles(tree, orgs)
    return SimpleNamespace(tree=tree, orgs=orgs, titles=titles, cast=cast, funds=funds)


# --- Reading a measure ----------------------------------------------------------------------------


def own_figures(code, root, *, start=None, end=END, filters=None) -> dict[int, int]:
    return measure(code).compute(root=root, start=start, end=end, filters=filters or {})


def rolled(code, root, **kwargs) -> dict[int, int]:
    """{branch id: figure of its whole subtree}, as a reader of the catalogue adds them up."""
    own = own_figures(code, root, **kwargs)
    totals = roll_up_by_path({(branch_id,): (figure,) for branch_id, figure in own.items()})
    return {branch_id: total for (branch_id,), (total,) in totals.items()}


def named(figures: dict[int, int], tree) -> dict[str, int]:
    """The figures by the tree's names, leaving out the zeros (and the boards below a commune)."""
    ids = {getattr(tree, name).pk: name for name in BRANCHES}
    return {ids[branch_id]: value for branch_id, value in figures.items() if branch_id in ids and value}


# --- The catalogue --------------------------------------------------------------------------------


def test_the_catalogue_lists_every_measure_with_its_unit_timing_and_source():
    by_code = {m.code: m for m in registered()}
    assert set(by_code) >= EXPECTED_CODES
    for code in EXPECTED_CODES:
        item = by_code[code]
        assert str(item.label) and str(item.source), code
        assert item.unit in {Unit.COUNT, Unit.PEOPLE, Unit.DONG, Unit.TURNS}, code
        assert item.timing in {Timing.AT_DATE, Timing.OVER_PERIOD}, code
        assert item.sums_up_tree, code
    assert by_code["funds.raised"].unit == Unit.DONG
    assert by_code["scholarships.paid"].unit == Unit.DONG
    assert by_code["scholarships.turns"].unit == Unit.TURNS
    assert by_code["registry.members"].unit == Unit.PEOPLE
    assert by_code["registry.members_new"].timing == Timing.OVER_PERIOD
    assert by_code["registry.members"].timing == Timing.AT_DATE


def test_the_scope_filters_offer_the_kinds_the_categories_and_the_titles(world):
    assert set(measure("registry.organizations_with_board").filters) == {"kinds"}
    assert set(measure("registry.plan_members").filters) == {"categories", "kinds"}
    plan_categories = {value for value, _label in measure("registry.headcount").filters["categories"][1]}
    assert plan_categories == {"party_member", "cadre", "civil_servant", "public_employee", "worker"}
    titles = {value for value, _label in measure("learning.recognised").filters["title"][1]}
    assert {"gia-dinh-hoc-tap", "don-vi-hoc-tap"} <= titles


# --- The registry ---------------------------------------------------------------------------------


def test_members_on_a_day_are_counted_at_their_register_and_rolled_up(world):
    tree = world.tree
    assert named(rolled("registry.members", tree.city), tree) == {
        "phuc_xa": 2,  # m1, m3 (m2 left)
        "truc_bach": 1,
        "ba_dinh": 4,  # + m6 on Ba Đình's own register, joined on the day
        "hang_bac": 1,
        "hoan_kiem": 1,
        "city": 5,
    }
    civil_servants = rolled("registry.members", tree.city, filters={"categories": ["civil_servant"]})
    assert named(civil_servants, tree) == {"phuc_xa": 1, "ba_dinh": 1, "hang_bac": 1, "hoan_kiem": 1, "city": 2}


def test_new_members_are_those_who_joined_in_the_period_even_if_they_left(world):
    tree = world.tree
    assert named(rolled("registry.members_new", tree.city, **YEAR_2019), tree) == {
        "phuc_xa": 2,  # m2 (left since), m3
        "ba_dinh": 3,
        "hang_bac": 1,
        "hoan_kiem": 1,
        "city": 4,
    }
    pupils = rolled("registry.members_new", tree.city, filters={"categories": ["student"]}, **YEAR_2019)
    assert named(pupils, tree) == {"phuc_xa": 1, "ba_dinh": 1, "city": 1}


def test_chapters_and_boards_established_on_the_day_count_at_the_branch_that_has_them(world):
    tree = world.tree
    assert named(own_figures("registry.boards", tree.city), tree) == {"phuc_xa": 1, "hang_bac": 1}
    assert named(rolled("registry.boards", tree.city), tree) == {
        "phuc_xa": 1,
        "ba_dinh": 1,  # D1's board is founded in 2020
        "hang_bac": 1,  # C1 closed, its board not dissolved
        "hoan_kiem": 1,
        "city": 2,
    }
    assert named(rolled("registry.boards", tree.city, end=D(2020, 12, 31)), tree)["city"] == 3
    assert named(rolled("registry.chapters", tree.city), tree) == {"hang_bac": 1, "hoan_kiem": 1, "city": 1}
    before_dissolution = rolled("registry.chapters", tree.city, end=D(2019, 1, 1))
    assert named(before_dissolution, tree) == {"truc_bach": 1, "ba_dinh": 1, "hang_bac": 1, "hoan_kiem": 1, "city": 2}


def test_a_board_that_is_the_root_itself_is_not_counted_at_a_parent_outside_the_subtree(world):
    board = Branch.objects.get(path__startswith=world.tree.phuc_xa.path, level=BranchLevel.BOARD)
    assert own_figures("registry.boards", board) == {}
    assert own_figures("registry.boards", world.tree.phuc_xa) == {world.tree.phuc_xa.pk: 1}


def test_organisations_active_on_the_day_and_those_with_a_board(world):
    tree = world.tree
    assert named(rolled("registry.organizations", tree.city), tree) == {
        "phuc_xa": 2,
        "truc_bach": 1,
        "ba_dinh": 3,  # D1 opens in 2020
        "city": 3,  # C1 closed on 01/06/2019
    }
    assert named(rolled("registry.organizations_with_board", tree.city), tree) == {
        "phuc_xa": 1,  # A1; B1's chapter dissolved on 30/06/2019
        "ba_dinh": 1,
        "city": 1,
    }
    on_new_year = D(2019, 1, 1)
    assert named(rolled("registry.organizations_with_board", tree.city, end=on_new_year), tree) == {
        "phuc_xa": 1,
        "truc_bach": 1,  # a chapter with no founding date counts as established
        "ba_dinh": 2,
        "hang_bac": 1,
        "hoan_kiem": 1,
        "city": 3,
    }
    agencies = {"kinds": ["agency"]}
    assert named(rolled("registry.organizations", tree.city, filters=agencies), tree) == {
        "phuc_xa": 1,
        "ba_dinh": 1,
        "city": 1,
    }
    assert named(rolled("registry.organizations_with_board", tree.city, end=on_new_year, filters=agencies), tree) == {
        "phuc_xa": 1,
        "ba_dinh": 1,
        "hang_bac": 1,
        "hoan_kiem": 1,
        "city": 2,
    }


def test_plan_members_count_at_their_workplace_against_the_latest_headcount(world):
    tree = world.tree
    assert named(rolled("registry.plan_members", tree.city), tree) == {
        "phuc_xa": 2,  # m1 and m4 (who lives in Hàng Bạc) at A1; the pupil and the farmer count nowhere
        "truc_bach": 1,
        "ba_dinh": 3,
        "city": 3,
    }
    assert named(rolled("registry.headcount", tree.city), tree) == {
        "phuc_xa": 12,  # A1's 2017 headcount: its 2020 one is after the day's year
        "truc_bach": 5,
        "ba_dinh": 17,  # D1 has only a 2021 headcount
        "hang_bac": 3,  # C1 closed, its headcount counts (the plan's text: every organisation)
        "hoan_kiem": 3,
        "city": 20,
    }
    cadres = {"categories": ["cadre"]}
    assert named(rolled("registry.plan_members", tree.city, filters=cadres), tree) == {
        "truc_bach": 1,
        "ba_dinh": 1,
        "city": 1,
    }
    assert named(rolled("registry.headcount", tree.city, filters=cadres), tree) == {
        "truc_bach": 5,
        "ba_dinh": 5,
        "city": 5,
    }
    agencies = {"kinds": ["agency"]}
    assert named(rolled("registry.plan_members", tree.city, filters=agencies), tree)["city"] == 2
    assert named(rolled("registry.headcount", tree.city, filters=agencies), tree) == {
        "phuc_xa": 12,
        "ba_dinh": 12,
        "hang_bac": 3,
        "hoan_kiem": 3,
        "city": 15,
    }
    assert named(rolled("registry.headcount", tree.city, end=D(2021, 12, 31)), tree)["city"] == 99 + 5 + 3 + 7


def test_a_subtree_answers_only_its_own_branches(world):
    tree = world.tree
    inside = {tree.ba_dinh.pk, tree.phuc_xa.pk, tree.truc_bach.pk}
    for code in EXPECTED_CODES:
        end = {"registry.chapters": D(2019, 6, 1)}.get(code, TITLES_END if code.startswith("learning.") else END)
        figures = own_figures(code, tree.ba_dinh, start=D(2019, 1, 1), end=end)
        assert figures, code
        assert set(figures) <= inside, code


# --- Funds and scholarships -----------------------------------------------------------------------


def test_money_raised_counts_valid_donations_received_in_the_period_at_the_funds_branch(world):
    tree = world.tree
    assert named(rolled("funds.raised", tree.city, **YEAR_2019), tree) == {
        "phuc_xa": 1_500_000,  # its two funds
        "ba_dinh": 1_500_000,  # Trúc Bạch's donation is of 2018
        "hoan_kiem": 300_000,  # the voided 700 000 left out
        "city": 1_850_000,
    }
    assert named(rolled("funds.donations", tree.city, **YEAR_2019), tree) == {
        "phuc_xa": 2,
        "ba_dinh": 2,
        "hoan_kiem": 1,
        "city": 4,
    }
    assert named(rolled("funds.raised", tree.city, end=END), tree)["city"] == 2_050_000  # no start: all up to the end


def test_scholarships_paid_turns_and_hardship_turns_by_the_day_each_award_was_paid(world):
    tree = world.tree
    assert named(rolled("scholarships.paid", tree.city, **YEAR_2019), tree) == {
        "phuc_xa": 500_000,  # the 100 000 of 10/01/2020 is next year's
        "ba_dinh": 500_000,
        "hoan_kiem": 100_000,  # the voided award left out
        "city": 600_000,
    }
    assert named(rolled("scholarships.turns", tree.city, **YEAR_2019), tree) == {
        "phuc_xa": 2,
        "ba_dinh": 2,
        "hoan_kiem": 1,
        "city": 3,
    }
    assert named(rolled("scholarships.hardship_turns", tree.city, **YEAR_2019), tree) == {
        "phuc_xa": 1,
        "ba_dinh": 1,
        "hoan_kiem": 1,
        "city": 2,
    }


# --- Learning titles ------------------------------------------------------------------------------


def test_learning_titles_are_counted_by_hand_for_the_year_of_the_end(world):
    tree, titles = world.tree, world.titles
    household = {"title": [titles.household.code]}
    assert named(rolled("learning.eligible", tree.city, end=TITLES_END, filters=household), tree) == {
        "phuc_xa": 10,
        "truc_bach": 5,
        "ba_dinh": 15,
        "city": 15,
    }
    assert named(rolled("learning.registered", tree.city, end=TITLES_END, filters=household), tree) == {
        "phuc_xa": 3,  # the withdrawn one left out, the 2023 one is another year
        "ba_dinh": 3,
        "hang_bac": 1,
        "hoan_kiem": 1,
        "city": 4,
    }
    assert named(rolled("learning.evaluated", tree.city, end=TITLES_END, filters=household), tree) == {
        "phuc_xa": 2,
        "ba_dinh": 2,
        "city": 2,
    }
    assert named(rolled("learning.recognised", tree.city, end=TITLES_END, filters=household), tree) == {
        "phuc_xa": 1,
        "ba_dinh": 1,
        "city": 1,
    }
    unit = {"title": [titles.unit.code]}
    assert named(rolled("learning.eligible", tree.city, end=TITLES_END, filters=unit), tree) == {
        "phuc_xa": 2,  # A1, A2
        "truc_bach": 7,  # entered: replaces B1
        "ba_dinh": 10,  # + D1
        "city": 10,  # C1 closed in 2019
    }
    assert named(rolled("learning.recognised", tree.city, end=TITLES_END, filters=unit), tree)["city"] == 1


def test_learning_measures_equal_the_title_figures_for_every_title_branch_and_year(world):
    tree = world.tree
    # A total entered at the city covers the whole tree for that title, even for a subtree's root.
    EligibleCount.objects.create(branch=tree.city, kind=world.titles.unit, year=2023, count=100)
    for year in (2023, 2024):
        figures = title_figures_compute(years=[year])
        for kind in TitleKind.objects.all():
            expected = {key[0]: value for key, value in figures.items() if key[1:] == (kind.pk, year)}
            for root in (tree.city, tree.ba_dinh):
                inside = set(Branch.objects.filter(path__startswith=root.path).values_list("pk", flat=True))
                for position, name in enumerate(FIGURE_FIELDS):
                    got = rolled(f"learning.{name}", root, end=D(year, 12, 31), filters={"title": [kind.code]})
                    want = {b: v[position] for b, v in expected.items() if b in inside and v[position]}
                    assert {b: v for b, v in got.items() if b in inside} == want, (kind.code, year, root.name, name)


def test_no_title_chosen_counts_every_title_together(world):
    tree = world.tree
    everything = named(rolled("learning.eligible", tree.city, end=TITLES_END), tree)
    assert everything == {"phuc_xa": 12, "truc_bach": 12, "ba_dinh": 25, "city": 25}
    assert named(rolled("learning.registered", tree.city, end=TITLES_END), tree)["city"] == 5


# --- Filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "filters", "end"),
    [
        ("registry.members", {"categories": ["astronaut"]}, END),
        ("registry.organizations", {"kinds": ["spaceship"]}, END),
        ("registry.organizations_with_board", {"kinds": ["spaceship"]}, END),
        ("registry.plan_members", {"categories": ["student"], "kinds": ["spaceship"]}, END),
        ("registry.headcount", {"categories": ["farmer"]}, END),
        ("learning.eligible", {"title": ["khong-co-danh-hieu-nay"]}, TITLES_END),
        ("learning.recognised", {"title": ["khong-co-danh-hieu-nay"]}, TITLES_END),
        ("funds.raised", {"kinds": ["agency"]}, END),
    ],
)
def test_unknown_filter_values_and_keys_are_ignored(world, code, filters, end):
    assert own_figures(code, world.tree.city, start=D(2019, 1, 1), end=end, filters=filters) == own_figures(
        code, world.tree.city, start=D(2019, 1, 1), end=end
    )


def test_known_values_are_kept_beside_unknown_ones(world):
    tree = world.tree
    mixed = {"kinds": ["agency", "spaceship"]}
    assert named(rolled("registry.organizations", tree.city, filters=mixed), tree)["city"] == 1
    titles = {"title": [world.titles.household.code, "khong-co-danh-hieu-nay"]}
    assert named(rolled("learning.eligible", tree.city, end=TITLES_END, filters=titles), tree)["city"] == 15
    assert clean_filters(measure("registry.plan_members"), {"categories": ["cadre", "student"], "x": ["1"]}) == {
        "categories": ["cadre"]
    }


# --- Query counts ---------------------------------------------------------------------------------

QUERIES = dict.fromkeys(EXPECTED_CODES, 1) | {"learning.eligible": 3}


def _grow(world) -> None:
    """Twelve more communes under Hoàn Kiếm, each with an organisation, a board, members,
    a headcount, money, an award and registrations."""
    tree, actor = world.tree, world.cast.admin
    for number in range(12):
        commune = make_branch(f"Phường {number}", BranchLevel.COMMUNE, tree.hoan_kiem)
        organization = org_with_board(commune, name=f"Trường {number}", founded_on=D(2018, 1, 1))
        make_branch(f"Chi hội {number}", BranchLevel.CHAPTER, commune, founded_on=D(2015, 1, 1))
        MemberFactory(branch=commune, organization=organization, joined_on=D(2019, 3, 1))
        HeadcountFactory(organization=organization, year=2019, civil_servants=4)
        fund = Fund.objects.create(
            branch=commune,
            name=f"Quỹ {number}",
            fund_model=world.funds.hoan_kiem.fund_model,
            legal_form=LegalForm.INTERNAL,
        )
        donate(actor, fund, 100_000, D(2019, 4, 1))
        pay(actor, make_round(actor, commune, fund), 50_000, D(2019, 9, 5))
        register(world.titles.household, commune, stage=Stage.RECOGNISED)
        EligibleCount.objects.create(branch=commune, kind=world.titles.household, year=2024, count=3)


@pytest.mark.parametrize("code", sorted(EXPECTED_CODES))
def test_each_measure_runs_the_same_few_queries_whatever_the_tree(world, code, django_assert_num_queries):
    end = TITLES_END if code.startswith("learning.") else END
    root = world.tree.city
    with django_assert_num_queries(QUERIES[code]):
        small = own_figures(code, root, start=D(2019, 1, 1), end=end, filters={})
    _grow(world)
    with django_assert_num_queries(QUERIES[code]):
        bigger = own_figures(code, root, start=D(2019, 1, 1), end=end, filters={})
    assert sum(bigger.values()) > sum(small.values()), code


@pytest.mark.parametrize(
    ("code", "filters", "queries"),
    [
        ("registry.members", {"categories": ["cadre", "worker"]}, 1),
        ("registry.organizations_with_board", {"kinds": ["agency", "public_service"]}, 1),
        ("registry.plan_members", {"categories": ["cadre"], "kinds": ["agency"]}, 1),
        ("registry.headcount", {"categories": ["cadre", "worker"], "kinds": ["agency"]}, 1),
        ("learning.eligible", {"title": ["don-vi-hoc-tap", "khong-co-danh-hieu-nay"]}, 3),
        ("learning.eligible", {"title": ["gia-dinh-hoc-tap"]}, 2),  # no title awarded to units: no registry
        # The chosen titles' ids first (a short query whatever the tree), so the year's
        # registrations of that title are read on their index (learning/measures.py).
        ("learning.recognised", {"title": ["gia-dinh-hoc-tap"]}, 2),
    ],
)
def test_a_filter_adds_no_query(world, code, filters, queries, django_assert_num_queries):
    end = TITLES_END if code.startswith("learning.") else END
    with django_assert_num_queries(queries):
        own_figures(code, world.tree.city, end=end, filters=filters)
