"""A reorganisation re-hangs subtrees and moves open rounds: the stored money totals
(funds.totals) follow in the apply's transaction, and every figure is conserved."""

import datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from associations.models import Branch, BranchLevel, RecordMove, StaffRole
from funds import totals
from funds.forms import DonationFilterForm
from funds.models import Donation, DonationMonthTotal, Fund, LegalForm
from funds.selectors import donation_totals
from funds.services import donation_void
from funds.totals import DONATIONS, totals_check, totals_rebuild_levels
from funds.visibility import history_outside, visible_records
from reorganisation import services
from reorganisation.tables import PART
from scholarships.forms import AwardFilterForm
from scholarships.models import Award, AwardCategory, AwardMonthTotal
from scholarships.selectors import award_totals
from scholarships.services import award_void
from scholarships.totals import AWARDS
from tests.factories import StaffProfileFactory, donate, make_branch, make_round, pay
from tests.reorganisation.test_apply import DAY, _create, _decide_district, _row, filled  # noqa: F401 — its fixture


def _city_figures(user):
    donations = donation_totals(user, DonationFilterForm(None, user=user))
    awards = award_totals(user, AwardFilterForm(None, user=user))
    return donations, awards


def test_the_apply_keeps_the_stored_totals_equal_to_a_recount_and_conserves_them(cast, tree, funds, filled):  # noqa: F811
    before = _city_figures(cast.city_leader)
    assert before[0]["count"] == Donation.objects.count() == 5
    assert before[1]["turns"] == Award.objects.count() == 2
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    assert totals_check(DONATIONS) == [] and totals_check(AWARDS) == []
    assert _city_figures(cast.city_leader) == before
    # The dissolved district's rows are gone from the city's subtree sums but its history is
    # its own: the old district still sums its own records (funds stay with their branch).
    tree.ba_dinh.refresh_from_db()
    assert DonationMonthTotal.objects.filter(branch=tree.city).exists()
    assert AwardMonthTotal.objects.filter(branch=tree.city).exists()


def test_a_successor_sees_its_predecessors_records_and_their_totals_exactly(cast, tree, funds, filled):  # noqa: F811
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)
    services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation)
    ward = Branch.objects.get(code="00004", founded_on=reorganisation.effective_on)
    leader = StaffProfileFactory(branch=ward, role=StaffRole.LEADER).user
    assert history_outside(leader) and not history_outside(cast.city_leader)
    for user in (leader, cast.city_leader, cast.sibling_clerk, cast.admin):
        for model in (Donation, Award):
            assert set(visible_records(model.objects.all(), user)) == set(model.objects.visible_to(user))
        for params in ({}, {"start": "2025-03-01", "end": "2025-04-01"}, {"start": "2025-02-15"}):
            form = DonationFilterForm(params or None, user=user)
            live = form.filter(Donation.objects.visible_to(user)).valid()
            expected = {"count": live.count(), "amount": sum(d.amount for d in live)}
            assert donation_totals(user, DonationFilterForm(params or None, user=user)) == expected, (user, params)
            form = AwardFilterForm(params or None, user=user)
            live = form.filter(Award.objects.visible_to(user)).valid()
            assert award_totals(user, AwardFilterForm(params or None, user=user))["turns"] == live.count()
    # The new ward sees the donations of the two old wards and of the old district it succeeds:
    # 5 + 1 + 0.7 (Phúc Xá) + 2 (Trúc Bạch) + 9 (Ba Đình) million.
    assert donation_totals(leader, DonationFilterForm(None, user=leader))["amount"] == 17_700_000


# --- the apply moves only the affected rows (no rebuild) ---------------------------------------

SPLIT = [
    _row(3, "00001", "Phường Phúc Xá", "00004", "Phường Ba Đình", kind=PART),
    _row(4, "00001", "Phường Phúc Xá", "00061", "Phường Hàng Bạc", kind=PART),
    _row(5, "00004", "Phường Trúc Bạch", "00004", "Phường Ba Đình"),
]


def _stored(model, branch):
    sums = model.objects.filter(branch=branch).aggregate(
        count=Sum("count"), amount=Sum("amount"), voided_count=Sum("voided_count"), voided_amount=Sum("voided_amount")
    )
    return {key: value or 0 for key, value in sums.items()}


@pytest.fixture
def chapter_money(cast, tree, funds, filled):  # noqa: F811
    """A chapter of Phúc Xá with its own fund and round: donations and awards in several
    months, one of each voided; and a round of Phúc Xá's own fund awarded after the effective
    day (it follows its fund), with awards in two months, one voided."""
    clerk = cast.admin
    chapter = make_branch("Chi hội Khuyến học tổ 5", BranchLevel.CHAPTER, tree.phuc_xa)
    fund = Fund.objects.create(
        branch=chapter, name="Quỹ chi hội tổ 5", fund_model=funds.phuc_xa.fund_model, legal_form=LegalForm.INTERNAL
    )
    for day, amount in [((2024, 11, 3), 400_000), ((2025, 1, 9), 600_000), ((2025, 3, 2), 800_000)]:
        donate(clerk, fund, amount, day=datetime.date(*day))
    donate(clerk, fund, 900_000, day=datetime.date(2025, 3, 5), donor_kind="organization")
    voided = donate(clerk, fund, 250_000, day=datetime.date(2025, 1, 20))
    donation_void(actor=clerk, donation=voided, reason="Ghi nhầm")
    chapter_round = make_round(clerk, chapter, fund, awarded_on=datetime.date(2025, 1, 15), school_year="2024-2025")
    pay(clerk, chapter_round, 200_000, day=datetime.date(2025, 1, 15))
    pay(clerk, chapter_round, 150_000, day=datetime.date(2025, 4, 1), category=AwardCategory.EXCELLENT)
    award_void(actor=clerk, award=pay(clerk, chapter_round, 100_000, day=datetime.date(2025, 4, 2)), reason="Trùng")
    late_round = make_round(
        clerk, tree.phuc_xa, funds.phuc_xa, awarded_on=DAY, name="Học bổng 2025-2026", school_year="2025-2026"
    )
    pay(clerk, late_round, 120_000, day=datetime.date(2025, 7, 2))
    pay(clerk, late_round, 130_000, day=datetime.date(2025, 8, 3))
    award_void(actor=clerk, award=pay(clerk, late_round, 90_000, day=datetime.date(2025, 8, 4)), reason="Trùng")
    return SimpleNamespace(chapter=chapter, fund=fund, round=chapter_round, late_round=late_round)


def _decide_split(cast, tree, filled, reorganisation, chapter):  # noqa: F811
    _decide_district(cast, tree, reorganisation)
    for record_type, record_id in [
        ("associations.organization", filled["organisation"].pk),
        ("associations.branch", chapter.pk),
    ]:
        services.decision_set(
            actor=cast.admin,
            reorganisation=reorganisation,
            record_type=record_type,
            record_id=record_id,
            successor_code="00061",
        )
    services.unit_decide(actor=cast.admin, reorganisation=reorganisation, branch=tree.phuc_xa, successor_code="00004")


def test_a_split_commune_re_hangs_its_chapter_and_the_stored_rows_follow_without_a_rebuild(
    cast,
    tree,
    funds,
    filled,  # noqa: F811
    chapter_money,
    monkeypatch,
):
    before = _city_figures(cast.city_leader)
    chapter = {model: _stored(model, chapter_money.chapter) for model in (DonationMonthTotal, AwardMonthTotal)}
    ba_dinh = {model: _stored(model, tree.ba_dinh) for model in (DonationMonthTotal, AwardMonthTotal)}
    hoan_kiem = {model: _stored(model, tree.hoan_kiem) for model in (DonationMonthTotal, AwardMonthTotal)}
    assert chapter[DonationMonthTotal] == {
        "count": 4,
        "amount": 2_700_000,
        "voided_count": 1,
        "voided_amount": 250_000,
    }
    assert chapter[AwardMonthTotal] == {"count": 2, "amount": 350_000, "voided_count": 1, "voided_amount": 100_000}
    reorganisation = _create(cast, rows=SPLIT)
    _decide_split(cast, tree, filled, reorganisation, chapter_money.chapter)
    monkeypatch.setattr(totals, "totals_rebuild", None)  # a rebuild would fail: only deltas move rows

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    assert totals_check(DONATIONS) == [] and totals_check(AWARDS) == []
    assert _city_figures(cast.city_leader) == before
    # The chapter hangs under Hàng Bạc now: its rows (its own sums) are unchanged; Quận Hoàn
    # Kiếm's subtree gained exactly them and Quận Ba Đình's lost them.
    chapter_money.chapter.refresh_from_db()
    tree.hang_bac.refresh_from_db()
    assert chapter_money.chapter.path.startswith(tree.hang_bac.path)
    for model in (DonationMonthTotal, AwardMonthTotal):
        assert _stored(model, chapter_money.chapter) == chapter[model]
        assert _stored(model, tree.hoan_kiem) == {
            key: hoan_kiem[model][key] + chapter[model][key] for key in chapter[model]
        }
    # The late round followed Phúc Xá's fund to the new Phường Ba Đình: its awards left the
    # old district's subtree too (its earlier round stays with Phúc Xá).
    ward = Branch.objects.get(code="00004", founded_on=DAY)
    chapter_money.late_round.refresh_from_db()
    assert chapter_money.late_round.branch_id == ward.pk
    assert _stored(AwardMonthTotal, ward) == {"count": 2, "amount": 250_000, "voided_count": 1, "voided_amount": 90_000}
    assert _stored(AwardMonthTotal, tree.ba_dinh) == {
        key: ba_dinh[AwardMonthTotal][key] - chapter[AwardMonthTotal][key] - late
        for key, late in {"count": 2, "amount": 250_000, "voided_count": 1, "voided_amount": 90_000}.items()
    }
    assert _stored(DonationMonthTotal, tree.ba_dinh) == {
        key: ba_dinh[DonationMonthTotal][key] - chapter[DonationMonthTotal][key] for key in chapter[DonationMonthTotal]
    }
    # Month by month too: the city's rows did not move at all.
    assert _month_rows(AwardMonthTotal, tree.hoan_kiem) == _month_rows(AwardMonthTotal, chapter_money.chapter)


def _emptied_rows(model):
    return model.objects.filter(count=0, amount=0, voided_count=0, voided_amount=0).count()


def test_the_old_units_lines_keep_no_stored_row_the_moves_left_at_zero(
    cast,
    tree,
    funds,
    filled,  # noqa: F811
    chapter_money,
    monkeypatch,
):
    assert _emptied_rows(DonationMonthTotal) == _emptied_rows(AwardMonthTotal) == 0
    reorganisation = _create(cast, rows=SPLIT)
    _decide_split(cast, tree, filled, reorganisation, chapter_money.chapter)
    monkeypatch.setattr(totals, "totals_rebuild", None)  # the deltas' path

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    # The chapter's money left Quận Ba Đình's line (and the late round Phúc Xá's): the rows it
    # emptied there are gone, not kept at zero; the figures are those of a recount.
    assert _emptied_rows(DonationMonthTotal) == _emptied_rows(AwardMonthTotal) == 0
    assert totals_check(DONATIONS) == [] and totals_check(AWARDS) == []
    assert DonationMonthTotal.objects.filter(branch=chapter_money.chapter).exists()


def _month_rows(model, branch):
    return {
        (row["month"], row["count"], row["amount"], row["voided_count"], row["voided_amount"])
        for row in model.objects.filter(branch=branch)
        .values("month")
        .annotate(**{measure: Sum(measure) for measure in ("count", "amount", "voided_count", "voided_amount")})
        if any((row["count"], row["amount"], row["voided_count"], row["voided_amount"]))
    }


def _moving_totals_queries(monkeypatch):
    """The number of queries of the apply's totals step, recorded when it runs."""
    seen = []
    step = services._move_totals

    def counted(reorganisation):
        with CaptureQueriesContext(connection) as queries:
            step(reorganisation)
        seen.append(len(queries))

    monkeypatch.setattr(services, "_move_totals", counted)
    return seen


def test_the_totals_step_of_the_apply_takes_the_same_queries_for_one_moved_chapter_or_many(
    cast,
    tree,
    funds,
    filled,  # noqa: F811
    monkeypatch,
):
    clerk = cast.admin
    for number in range(6):
        chapter = make_branch(f"Chi hội tổ {number}", BranchLevel.CHAPTER, tree.truc_bach)
        fund = Fund.objects.create(
            branch=chapter,
            name=f"Quỹ tổ {number}",
            fund_model=funds.truc_bach.fund_model,
            legal_form=LegalForm.INTERNAL,
        )
        donate(clerk, fund, 100_000 * (number + 1), day=datetime.date(2024, number + 1, 1))
        scholarship_round = make_round(clerk, chapter, fund, awarded_on=datetime.date(2024, 6, 1))
        pay(clerk, scholarship_round, 10_000, day=datetime.date(2024, 6, number + 1))
    for number in range(3):
        late = make_round(clerk, tree.truc_bach, funds.truc_bach, awarded_on=DAY, name=f"Đợt {number}")
        pay(clerk, late, 1_000, day=datetime.date(2025, 7, number + 2))
    seen = _moving_totals_queries(monkeypatch)
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    # One counting the re-hung subtrees, one for the tree's depth, then per kind of record one
    # statement for the re-hung subtrees, one for the moved rounds (or funds) and one deleting
    # the rows the moves emptied: 7 chapters and boards and 3 rounds here, the same in the
    # single-move test below.
    assert RecordMove.objects.filter(reorganisation=reorganisation, record_type="associations.branch").count() == 7
    assert seen == [8]
    assert totals_check(DONATIONS) == [] and totals_check(AWARDS) == []


def test_the_totals_step_of_a_single_move_takes_as_many_queries(cast, tree, funds, filled, monkeypatch):  # noqa: F811
    seen = _moving_totals_queries(monkeypatch)
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    assert RecordMove.objects.filter(reorganisation=reorganisation, record_type="associations.branch").count() == 1
    assert seen == [8]
    assert totals_check(DONATIONS) == [] and totals_check(AWARDS) == []


def test_two_rounds_in_a_row_keep_the_stored_rows_equal_to_a_recount(cast, tree, funds, filled, chapter_money):  # noqa: F811
    first = _create(cast, rows=SPLIT)
    _decide_split(cast, tree, filled, first, chapter_money.chapter)
    assert services.reorganisation_apply(actor=cast.admin, reorganisation=first).applied
    before = _city_figures(cast.city_leader)
    ward = Branch.objects.get(code="00004", founded_on=DAY)
    tree.hang_bac.refresh_from_db()
    later = services.reorganisation_create(
        actor=cast.admin,
        name="Sắp xếp 2026",
        legal_basis="",
        effective_on=datetime.date(2026, 1, 1),
        rows=[_row(3, "00061", "Phường Hàng Bạc", ward.code, "Phường Ba Đình")],
    )
    services.decisions_prepare(actor=cast.admin, reorganisation=later)
    # Quận Hoàn Kiếm loses its only ward: its own fund and account go to the ward too.
    services.unit_decide(actor=cast.admin, reorganisation=later, branch=tree.hoan_kiem, successor_code=ward.code)

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=later).applied

    assert totals_check(DONATIONS) == [] and totals_check(AWARDS) == []
    assert _city_figures(cast.city_leader) == before
    chapter_money.chapter.refresh_from_db()
    assert chapter_money.chapter.path.startswith(ward.path)


def test_a_round_that_re_hangs_most_of_the_tree_rebuilds_the_stored_rows_equal_to_a_recount(
    cast,
    tree,
    funds,
    filled,  # noqa: F811
    chapter_money,
    monkeypatch,
):
    monkeypatch.setattr(services, "REBUILD_TOTALS_ABOVE", 0)
    monkeypatch.setattr(services, "REBUILD_TOTALS_SHARE", 0)
    rebuilt = []

    def spy(spec, levels):
        rebuilt.append(totals_rebuild_levels(spec, levels=levels))

    monkeypatch.setattr(services, "totals_rebuild_levels", spy)
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    assert len(rebuilt) == 2  # the donations' and the awards' rows of the administrative units
    assert totals_check(DONATIONS) == [] and totals_check(AWARDS) == []
