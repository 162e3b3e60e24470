"""The centres' measures in the catalogue, against hand counts, in one query each."""

import datetime

import pytest

from associations.models import BranchLevel
from centres.models import ActivityKind, AssociationPost, BoardRole
from khuyenhoc import measures
from khuyenhoc.measures import Timing, Unit
from tests.centres import factories
from tests.factories import make_branch

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = D(2024, 6, 30)
YEAR = (D(2024, 1, 1), D(2024, 12, 31))
CODES = (
    "centres.activities",
    "centres.sessions",
    "centres.participant_turns",
    "centres.funding",
    "centres.centres",
    "centres.chairs_on_board",
    "centres.commune_associations",
    "centres.staff_taking_part_trained",
    "centres.staff_total",
)


def compute(code, root, start=None, end=DAY, filters=None):
    return measures.measure(code).compute(root=root, start=start, end=end, filters=filters or {})


@pytest.fixture
def world(tree):
    """Hand-counted on 30/06/2024 (see each line)."""
    old_commune = make_branch("Xã Cũ", BranchLevel.COMMUNE, tree.ba_dinh, dissolved_on=D(2020, 1, 1))
    phuc_xa = factories.centre(tree.phuc_xa)
    truc_bach = factories.centre(tree.truc_bach)
    hang_bac_old = factories.centre(tree.hang_bac, founded_on=D(2010, 1, 1), dissolved_on=D(2023, 1, 1))
    hang_bac = factories.centre(tree.hang_bac, name="TTHTCĐ Hàng Bạc mới", founded_on=D(2023, 1, 1))
    old = factories.centre(old_commune, founded_on=D(2010, 1, 1), dissolved_on=D(2020, 1, 1))

    # Phúc Xá: the chair and a vice-chair on the board → the commune counts once.
    factories.seat(phuc_xa, "Chủ tịch", BoardRole.DEPUTY, AssociationPost.CHAIR, from_on=D(2020, 1, 1))
    factories.seat(phuc_xa, "Phó chủ tịch", BoardRole.MEMBER, AssociationPost.VICE_CHAIR)
    # Trúc Bạch: the vice-chair left the board before the day; a member without a post → no.
    factories.seat(truc_bach, "Phó chủ tịch cũ", BoardRole.MEMBER, AssociationPost.VICE_CHAIR, to_on=D(2024, 6, 30))
    factories.seat(truc_bach, "Ủy viên", BoardRole.MEMBER)
    # Hàng Bạc: the chair sat on the old centre's board only; the chair joins the new one after the day → no.
    factories.seat(hang_bac_old, "Chủ tịch", BoardRole.DEPUTY, AssociationPost.CHAIR)
    factories.seat(hang_bac, "Chủ tịch", BoardRole.DEPUTY, AssociationPost.CHAIR, from_on=D(2024, 7, 1))
    # A commune gone before the day counts in neither the numerator nor the denominator.
    factories.seat(old, "Chủ tịch", BoardRole.DIRECTOR, AssociationPost.CHAIR)

    # Activities of 2024: Phúc Xá 2 valid (4+6 sessions, 100+50 turns, 1.000.000 + 0 đồng),
    # one voided; one of 2023; Hàng Bạc 1 on law (2 sessions, 30 turns, 500.000 đồng).
    factories.activity(phuc_xa, D(2024, 3, 1), sessions=4, turns=100, funding=1_000_000)
    factories.activity(phuc_xa, D(2024, 12, 31), sessions=6, turns=50, ends_on=D(2025, 1, 15))
    voided = factories.activity(phuc_xa, D(2024, 5, 1), sessions=9, turns=900, funding=9_000_000)
    voided.voided_at, voided.void_reason = voided.created_at, "Nhập trùng"
    voided.save()
    factories.activity(phuc_xa, D(2023, 12, 31), sessions=7, turns=70)
    factories.activity(hang_bac, D(2024, 2, 2), sessions=2, turns=30, funding=500_000, kind=ActivityKind.LAW)

    # Staff of 2024: Phúc Xá 3 (one both takes part and is trained), Trúc Bạch 1 (both); 2023 not counted.
    factories.staff(phuc_xa, 2024, "A", takes_part=True, it_trained=True)
    factories.staff(phuc_xa, 2024, "B", takes_part=True, it_trained=False)
    factories.staff(phuc_xa, 2024, "C", takes_part=False, it_trained=True)
    factories.staff(truc_bach, 2024, "D", takes_part=True, it_trained=True)
    factories.staff(phuc_xa, 2023, "E", takes_part=True, it_trained=True)
    return tree


def test_every_centre_measure_is_in_the_catalogue_with_its_unit_and_timing():
    catalogue = {m.code: m for m in measures.registered()}
    assert set(CODES) <= set(catalogue)
    assert catalogue["centres.funding"].unit == Unit.DONG
    assert catalogue["centres.activities"].timing == Timing.OVER_PERIOD
    assert catalogue["centres.chairs_on_board"].timing == Timing.AT_DATE
    assert set(catalogue["centres.activities"].filters) == {"kinds"}


def test_chairs_on_the_board_and_its_denominator_match_the_hand_count(world):
    tree = world
    assert compute("centres.chairs_on_board", tree.city) == {tree.phuc_xa.pk: 1}
    assert compute("centres.commune_associations", tree.city) == {
        tree.phuc_xa.pk: 1,
        tree.truc_bach.pk: 1,
        tree.hang_bac.pk: 1,
    }
    assert compute("centres.commune_associations", tree.hoan_kiem) == {tree.hang_bac.pk: 1}
    assert compute("centres.chairs_on_board", tree.hoan_kiem) == {}
    # A day later the new chair of Hàng Bạc has joined, and Trúc Bạch's vice-chair is gone.
    assert compute("centres.chairs_on_board", tree.city, end=D(2024, 7, 1)) == {
        tree.phuc_xa.pk: 1,
        tree.hang_bac.pk: 1,
    }
    # Before Trúc Bạch's vice-chair left, Trúc Bạch counted.
    assert tree.truc_bach.pk in compute("centres.chairs_on_board", tree.city, end=D(2024, 6, 29))


def test_active_centres_at_a_date(world):
    tree = world
    assert compute("centres.centres", tree.city) == {tree.phuc_xa.pk: 1, tree.truc_bach.pk: 1, tree.hang_bac.pk: 1}
    assert sum(compute("centres.centres", tree.city, end=D(2015, 1, 1)).values()) == 4  # the old commune's too


def test_activity_measures_over_a_period_leave_out_voided_ones_and_other_years(world):
    tree = world
    start, end = YEAR
    assert compute("centres.activities", tree.city, start, end) == {tree.phuc_xa.pk: 2, tree.hang_bac.pk: 1}
    assert compute("centres.sessions", tree.city, start, end) == {tree.phuc_xa.pk: 10, tree.hang_bac.pk: 2}
    assert compute("centres.participant_turns", tree.city, start, end) == {tree.phuc_xa.pk: 150, tree.hang_bac.pk: 30}
    assert compute("centres.funding", tree.city, start, end) == {tree.phuc_xa.pk: 1_000_000, tree.hang_bac.pk: 500_000}
    assert compute("centres.activities", tree.ba_dinh, start, end) == {tree.phuc_xa.pk: 2}
    assert compute("centres.activities", tree.city, start, end, {"kinds": ["law"]}) == {tree.hang_bac.pk: 1}
    assert compute("centres.activities", tree.city, D(2024, 1, 1), D(2024, 6, 30)) == {
        tree.phuc_xa.pk: 1,
        tree.hang_bac.pk: 1,
    }


def test_staff_measures_count_the_year_of_the_end_date(world):
    tree = world
    assert compute("centres.staff_taking_part_trained", tree.city) == {tree.phuc_xa.pk: 1, tree.truc_bach.pk: 1}
    assert compute("centres.staff_total", tree.city) == {tree.phuc_xa.pk: 3, tree.truc_bach.pk: 1}
    assert compute("centres.staff_total", tree.city, end=D(2023, 12, 31)) == {tree.phuc_xa.pk: 1}


@pytest.mark.parametrize("code", CODES)
def test_each_measure_takes_one_query_whatever_the_data(world, code, django_assert_num_queries):
    tree = world
    start, end = YEAR
    with django_assert_num_queries(1):
        compute(code, tree.city, start, end, {"kinds": ["it"]} if code == "centres.activities" else None)
    for number in range(5):
        commune = make_branch(f"Phường Thêm {number}", BranchLevel.COMMUNE, tree.ba_dinh)
        centre = factories.centre(commune)
        factories.seat(centre, "Chủ tịch", BoardRole.DIRECTOR, AssociationPost.CHAIR)
        factories.staff(centre, 2024, "X", takes_part=True, it_trained=True)
        factories.activity(centre, D(2024, 4, 4), funding=100_000)
    with django_assert_num_queries(1):
        figures = compute(code, tree.city, start, end)
    assert len(figures) >= 5
