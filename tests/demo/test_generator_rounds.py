"""The synthetic Hanoi with its three reorganisation rounds applied at their dates: it ends on
today's map, and nothing dated after a round's effective day stays on a unit the round
dissolved or a fund it closed."""

import datetime

import pytest
from django.db import transaction
from django.db.models import F

from associations.maps import hanoi_map_load
from associations.models import Branch, BranchLevel, Reorganisation
from demo.generator import generate_hanoi, spec
from demo.generator.rounds import rounds_check
from funds import reports as fund_reports
from funds.models import Donation, Fund
from funds.periods import Period
from learning.models import Decision, EligibleCount, Registration
from scholarships.models import ScholarshipRound

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hanoi(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        hanoi_map_load(vintage="2017")
        generate_hanoi(scale="small", seed=7)
        yield Branch.objects.city_root()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _in_a_savepoint(hanoi, db):
    """The `db` fixture's per-test transaction is a savepoint of the module's."""


def test_the_generated_city_ends_on_todays_map_of_126_communes(hanoi):
    assert Reorganisation.objects.filter(status=Reorganisation.Status.APPLIED).count() == 3
    today = datetime.date(2026, 12, 1)
    assert Branch.objects.active_on(today).filter(level=BranchLevel.COMMUNE).count() == 126
    assert all(not problems for problems in Branch.objects.find_problems())


def test_no_money_is_dated_on_or_after_the_day_a_round_closed_its_fund(hanoi):
    closed = Fund.objects.filter(closed_on__isnull=False)
    assert closed.filter(closed_on=datetime.date(2020, 1, 1)).exists(), "the first round closes commune funds"
    assert not Donation.objects.filter(fund__closed_on__isnull=False, received_on__gte=F("fund__closed_on")).exists()
    assert not ScholarshipRound.objects.filter(
        fund__closed_on__isnull=False, awarded_on__gte=F("fund__closed_on")
    ).exists()
    assert not closed.exclude(balance=0).exists()


def test_the_city_still_raises_the_published_money_of_2020_at_one_hundredth(hanoi):
    raised = fund_reports.raised_total(hanoi, Period.calendar_year(2020))
    assert raised["amount"] == spec.scaled_money(133_200_000_000, spec.SCALES["small"], spec.DONATION_UNIT)


def test_no_learning_record_dated_after_a_round_stays_on_a_unit_it_dissolved(hanoi):
    dissolved = {"branch__dissolved_on__isnull": False}
    assert not Registration.objects.filter(**dissolved, registered_on__gte=F("branch__dissolved_on")).exists()
    assert not Decision.objects.filter(**dissolved, decided_on__gte=F("branch__dissolved_on")).exists()
    assert not EligibleCount.objects.filter(**dissolved, year__gte=2026).exists()
    assert Decision.objects.filter(year=2026).exists()
    rounds_check()  # the generator's own check agrees
