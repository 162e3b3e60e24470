"""`make run`'s demo: a newcomer lands on today's map (Hanoi's 126 communes since 01/07/2025)
with its history, the synthetic sample moved there by Hanoi's three rounds with the demo's own
decisions; centres, Plans 99 and 291 and the 2026 report periods are there from the start;
each demo account sees its own part; and a second run adds nothing."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from associations.models import (
    Branch,
    BranchLevel,
    LineageEdge,
    Member,
    Organization,
    RecordMove,
    Reorganisation,
    StaffRole,
)
from centres.models import Activity, Centre
from demo.generator.rounds import dated_after_dissolution, eligible_counts_off_the_map, rounds_check
from demo.services import demo_data_counts, demo_decisions, demo_setup
from funds.models import Donation, Fund
from funds.totals import DONATIONS, totals_check
from learning.models import EligibleCount, Registration, SubjectType, TitleFigure
from plans.models import IndicatorValue, Plan
from reporting.models import Deadline, Period, PeriodKind, Report, ReportState
from scholarships.models import Award
from scholarships.totals import AWARDS

NEW_MAP = datetime.date(2025, 7, 1)

# The set-up generates the sample and applies three rounds: about a minute on PostgreSQL.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One demo set-up for the module, in a transaction rolled back at its end; each test
    runs in a savepoint of it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo_setup()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _in_a_savepoint(demo, db):
    pass


def _user(username):
    return get_user_model().objects.get(username=username)


def _today():
    return timezone.localdate()


def test_today_the_map_has_126_communes_directly_under_the_city_and_no_district(demo):
    in_force = Branch.objects.active_on(_today())
    assert in_force.filter(level=BranchLevel.COMMUNE).count() == 126
    assert not in_force.filter(level=BranchLevel.DISTRICT).exists()
    assert in_force.filter(level=BranchLevel.COMMUNE).exclude(depth=2).count() == 0
    assert Branch.objects.active_on(datetime.date(2019, 12, 31)).filter(level=BranchLevel.COMMUNE).count() == 584
    assert Reorganisation.objects.filter(status=Reorganisation.Status.APPLIED).count() == 3
    assert LineageEdge.objects.filter(reorganisation__effective_on=NEW_MAP).count() > 500
    assert RecordMove.objects.exists()


def test_the_synthetic_sample_now_lives_on_todays_map_and_keeps_its_years(demo):
    today = _today()
    dissolved = Branch.objects.filter(dissolved_on__lte=today)
    on_dissolved = Q()
    for path in dissolved.filter(level__in=[BranchLevel.DISTRICT, BranchLevel.COMMUNE]).values_list("path", flat=True):
        on_dissolved |= Q(branch__path__startswith=path)
    alive = Member.objects.filter(Q(left_on__isnull=True) | Q(left_on__gte=NEW_MAP))
    assert alive.count() > 5000
    assert not alive.filter(on_dissolved).exists(), "a member in force stayed with a dissolved unit"
    assert Organization.objects.filter(Q(active_to__isnull=True)).exclude(on_dissolved).count() == (
        Organization.objects.filter(active_to__isnull=True).count()
    )
    paid_years = {day.year for day in Award.objects.dates("paid_on", "year")}
    assert set(range(2016, 2021)) <= paid_years


def test_the_demo_decisions_file_decides_every_unit_the_rounds_need(demo):
    decisions = demo_decisions()
    assert len(decisions) > 200
    assert {row.round for row in decisions} == {"2020", "2025-01", "2025-07"}
    assert Reorganisation.objects.filter(status=Reorganisation.Status.DRAFT).count() == 0


def test_a_second_demo_setup_adds_nothing(demo):
    before = demo_data_counts()
    assert demo_setup() == demo
    assert demo_data_counts() == before


def test_the_demo_accounts_sit_on_todays_map(demo):
    by_name = {account.username: account for account in demo}
    assert set(by_name) == {
        "admin",
        "lanhdao.hanoi",
        "quanly.hanoi",
        "canbo.badinh",
        "canbo.phucxa",
        "lanhdao.badinh",
        "lanhdao.hoankiem",
    }
    ba_dinh = Branch.objects.get(code="00004", founded_on=NEW_MAP)
    assert ba_dinh.name == "Phường Ba Đình"
    clerk = _user("canbo.badinh")
    assert (clerk.staff_profile.branch, clerk.staff_profile.role) == (ba_dinh, StaffRole.CLERK)
    # The old Phúc Xá's clerk was moved by the whole merge into Phường Hồng Hà.
    moved = _user("canbo.phucxa").staff_profile
    assert (moved.branch.name, moved.branch.founded_on) == ("Phường Hồng Hà", NEW_MAP)
    assert RecordMove.objects.filter(record_type="associations.staffprofile", record_id=moved.pk).exists()
    # The dissolved districts' leaders: one moved to the new ward, one a read-only city account.
    assert _user("lanhdao.badinh").staff_profile.branch == ba_dinh
    city_account = _user("lanhdao.hoankiem").staff_profile
    assert (city_account.branch.depth, city_account.role) == (1, StaffRole.LEADER)
    for account in demo:
        assert _user(account.username).has_usable_password()  # signing in: test_embedded_default.py


def test_the_clerk_of_phuong_ba_dinh_sees_her_ward_and_its_predecessors_history_read_only(demo, client):
    ba_dinh = Branch.objects.get(code="00004", founded_on=NEW_MAP)
    truc_bach = Branch.objects.get(code="00004", founded_on__isnull=True)  # the old Trúc Bạch, merged whole
    assert truc_bach.name == "Phường Trúc Bạch" and truc_bach.dissolved_on == NEW_MAP
    client.force_login(_user("canbo.badinh"))

    own = client.get(f"/registry/branches/{ba_dinh.pk}/")
    assert own.status_code == 200
    html = own.content.decode()
    assert 'data-testid="branch-read-only"' not in html
    assert "Phường Trúc Bạch" in html, "her ward's page names where it came from"

    history = client.get(f"/registry/branches/{truc_bach.pk}/")
    assert history.status_code == 200
    assert 'data-testid="branch-read-only"' in history.content.decode()
    assert client.get(f"/registry/branches/{truc_bach.pk}/edit/").status_code == 403

    member = Member.objects.in_subtree(ba_dinh).first()
    page = client.get("/registry/members/", {"q": member.full_name})
    assert f"/registry/members/{member.pk}/" in page.content.decode()
    elsewhere = Branch.objects.get(code="00097", founded_on=NEW_MAP)  # Phường Hồng Hà
    assert client.get(f"/registry/branches/{elsewhere.pk}/").status_code == 404


def test_the_city_dashboard_shows_plans_99_and_291_right_away(demo, client):
    assert IndicatorValue.objects.exists()
    assert Plan.objects.filter(code__startswith="291/").exists()
    client.force_login(_user("lanhdao.hanoi"))
    page = client.get("/plans/dashboard/")
    assert page.status_code == 200
    assert "99/KH-KHHN" in page.content.decode()
    plans = client.get("/plans/")
    assert "291/" in plans.content.decode()


def test_the_city_dashboard_shows_plan_291s_two_cdht_targets_with_values(demo, client):
    client.force_login(_user("lanhdao.hanoi"))
    html = client.get("/plans/dashboard/").content.decode()
    for key in ("cdht-among-workers-of-titled-families", "cdht-among-staff-of-titled-units"):
        card = html.split(f'data-testid="target-{key}"')[1].split("</article>")[0]
        assert 'data-testid="not-available"' not in card and 'data-testid="no-data"' not in card, key
        assert 'data-testid="percent">' in card and 'data-testid="fraction">0 ' not in card, key


def test_every_commune_of_today_has_a_learning_centre_and_some_held_activities(demo):
    today_communes = Branch.objects.active_on(_today()).filter(level=BranchLevel.COMMUNE)
    centres = Centre.objects.active_on(_today()).filter(branch__in=today_communes)
    assert centres.values("branch").distinct().count() == 126
    assert Centre.objects.filter(dissolved_on=NEW_MAP).exists(), "the old communes' centres ended with them"
    assert Activity.objects.filter(centre__in=centres).values("centre").distinct().count() >= 3


def test_the_2026_report_periods_are_open_with_deadlines_and_some_reports_sent(demo, client):
    half_year = Period.objects.get(kind=PeriodKind.HALF_YEAR, year=2026)
    year = Period.objects.get(kind=PeriodKind.YEAR, year=2026)
    for period in (half_year, year):
        assert Deadline.objects.filter(period=period, level=BranchLevel.COMMUNE).exists()
    reports = Report.objects.filter(period=half_year)
    assert reports.filter(state=ReportState.APPROVED).count() >= 3
    assert reports.filter(state=ReportState.SUBMITTED).exists()
    client.force_login(_user("quanly.hanoi"))
    page = client.get(f"/reports/periods/{half_year.pk}/completeness/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<tr data-level="commune">' in html
    assert 'data-testid="percent">8%<' in html, "10 of today's 126 communes sent their report"


def test_the_clerk_moved_from_phuc_xa_sees_the_learning_titles_figures_of_her_ward(demo, client):
    clerk = _user("canbo.phucxa")
    hong_ha = clerk.staff_profile.branch
    client.force_login(clerk)
    for year in (2021, 2026):
        household = TitleFigure.objects.get(branch=hong_ha, kind__code="gia-dinh-hoc-tap", year=year)
        assert 0 < household.recognised <= household.registered
        page = client.get("/titles/figures/", {"branch": hong_ha.pk, "year": year})
        assert page.status_code == 200
        assert "Gia đình học tập" in page.content.decode()


# --- Records dated after a round follow the map (the demo applies the rounds after generating
# its city on the 2017 map): nothing dated after a branch's dissolution stays on that branch
# (money, learning records, centres, reports), and the learning titles' eligible totals of 2025
# and 2026 sit on communes in force on their date. Same set-up as above: one demo per module.


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


def test_the_demos_stored_money_totals_equal_a_recount_after_its_three_rounds(demo):
    # The generator rebuilt them before the rounds; each round's apply moved only the rows of
    # what it moved (the re-hung chapters and boards).
    assert RecordMove.objects.filter(record_type="associations.branch").exists()
    assert totals_check(DONATIONS) == [] and totals_check(AWARDS) == []
