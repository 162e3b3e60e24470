"""A reorganisation re-hangs subtrees and moves open rounds: the stored money totals
(funds.totals) follow in the apply's transaction, and every figure is conserved."""

from funds.forms import DonationFilterForm
from funds.models import Donation, DonationMonthTotal
from funds.selectors import donation_totals
from funds.totals import DONATIONS, totals_check
from reorganisation import services
from scholarships.forms import AwardFilterForm
from scholarships.models import Award, AwardMonthTotal
from scholarships.selectors import award_totals
from scholarships.totals import AWARDS
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
