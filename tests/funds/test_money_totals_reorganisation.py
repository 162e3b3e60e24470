"""A reorganisation re-hangs subtrees and moves open rounds: the stored money totals
(funds.totals) follow in the apply's transaction, and every figure is conserved."""

from associations.models import Branch, StaffRole
from funds.forms import DonationFilterForm
from funds.models import Donation, DonationMonthTotal
from funds.selectors import donation_totals
from funds.totals import DONATIONS, totals_check
from funds.visibility import history_outside, visible_records
from reorganisation import services
from scholarships.forms import AwardFilterForm
from scholarships.models import Award, AwardMonthTotal
from scholarships.selectors import award_totals
from scholarships.totals import AWARDS
from tests.factories import StaffProfileFactory
from tests.reorganisation.test_apply import _create, _decide_district, filled  # noqa: F401 — its fixture


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
