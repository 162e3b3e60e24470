"""`make run`'s demo is consistent with its map: it generates its city on the 2017 map, then
applies Hanoi's three rounds with its own decisions; nothing dated after a branch's
dissolution stays on that branch (money, learning records, centres, reports), and the
learning titles' eligible totals of 2025 and 2026 sit on communes in force on their date."""

import datetime

import pytest
from django.db import transaction
from django.db.models import F, Sum

from associations.models import Branch, BranchLevel
from demo.generator.rounds import dated_after_dissolution, eligible_counts_off_the_map, rounds_check
from demo.services import demo_setup
from funds.models import Donation, Fund
from learning.models import EligibleCount, Registration, SubjectType, TitleFigure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo_setup()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _in_a_savepoint(demo, db):
    pass


def test_no_demo_record_dated_after_its_branchs_dissolution_stays_on_it(demo):
    problems = dated_after_dissolution()
    assert problems == {}, problems
    rounds_check()  # the generator's own check agrees


def test_no_2020_donation_of_the_demo_sits_on_a_fund_the_first_round_closed(demo):
    closed = Fund.objects.filter(closed_on=datetime.date(2020, 1, 1))
    assert closed.exists(), "the first round closes the funds of the communes it dissolves"
    assert Donation.objects.filter(received_on__year=2020).exists()
    assert not Donation.objects.filter(fund__in=closed, received_on__gte=F("fund__closed_on")).exists()
    assert not closed.exclude(balance=0).exists()


def test_the_demos_eligible_totals_of_2025_and_2026_sit_on_communes_in_force_on_their_date(demo):
    for year in (2025, 2026):
        counts = EligibleCount.objects.filter(year=year)
        assert counts.exists()
        in_force = Branch.objects.active_on(datetime.date(year, 1, 5))
        assert not counts.exclude(branch__in=in_force.values("id")).exists()
    assert eligible_counts_off_the_map() == 0
    todays = Branch.objects.active_on(datetime.date(2026, 1, 5)).filter(level=BranchLevel.COMMUNE)
    assert EligibleCount.objects.filter(year=2026, branch__in=todays).values("branch").distinct().count() > 100


def test_the_demos_registrations_of_2026_are_counted_where_their_eligible_totals_are(demo):
    registered = set(Registration.objects.filter(year=2026).values_list("branch__path", flat=True))
    counted = list(EligibleCount.objects.filter(year=2026).values_list("branch__path", flat=True))
    # Every registration of 2026 lies in the subtree of a commune that holds an eligible total.
    assert registered
    assert all(any(path.startswith(commune) for commune in counted) for path in registered)


def test_the_figures_of_todays_communes_for_2026_count_the_totals_and_registrations_that_moved_there(demo):
    root = Branch.objects.city_root()
    communes = list(
        Branch.objects.active_on(datetime.date(2026, 1, 5)).filter(level=BranchLevel.COMMUNE).order_by("code")[:8]
    )
    for branch in [root, *communes]:
        subtree = {"branch__path__startswith": branch.path}
        figures = TitleFigure.objects.filter(branch=branch, year=2026)
        assert figures.exists()
        for figure in figures:
            eligible = EligibleCount.objects.filter(**subtree, kind=figure.kind, year=2026).aggregate(n=Sum("count"))
            registered = Registration.objects.counted().filter(**subtree, kind=figure.kind, year=2026).count()
            if figure.kind.subject_type != SubjectType.UNIT:  # units' base may come from the registry
                assert figure.eligible == (eligible["n"] or 0), (branch.name, figure.kind.code)
            assert figure.registered == registered, (branch.name, figure.kind.code)
    assert not TitleFigure.objects.filter(branch__dissolved_on__lte=datetime.date(2026, 1, 5), year=2026).exists()
