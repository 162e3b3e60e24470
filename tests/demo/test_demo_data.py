"""`make run`'s demo: every district holds a synthetic sample, Plan 99's progress is on the
dashboard from the start, each demo account sees its own part, and a second run adds nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from associations.models import Branch, BranchLevel, Member, Organization
from demo.services import demo_data_counts, demo_setup
from funds.models import Donation
from learning.models import TitleFigure
from plans.models import IndicatorValue
from scholarships.models import Award


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


def test_the_demo_populates_every_district_with_organisations_members_and_money(demo):
    for district in Branch.objects.filter(founded_on__isnull=True, level=BranchLevel.DISTRICT):
        assert Organization.objects.in_subtree(district).exists(), district
        assert Member.objects.in_subtree(district).exists(), district
        assert Donation.objects.in_subtree(district).exists(), district
        assert Award.objects.in_subtree(district).exists(), district
    paid_years = {day.year for day in Award.objects.dates("paid_on", "year")}
    assert set(range(2016, 2021)) <= paid_years


def test_a_second_demo_setup_adds_nothing(demo):
    before = demo_data_counts()
    assert demo_setup() == demo
    assert demo_data_counts() == before


def test_each_demo_account_signs_in_and_sees_its_own_part(demo, client):
    usernames = {account.username for account in demo}
    assert usernames == {"admin", "lanhdao.hanoi", "quanly.hanoi", "lanhdao.badinh", "canbo.phucxa"}
    clerk = get_user_model().objects.get(username="canbo.phucxa")
    assert clerk.has_usable_password()  # signing in with DEMO_PASSWORD: test_embedded_default.py
    client.force_login(clerk)
    phuc_xa = Branch.objects.get(code="00001", founded_on__isnull=True)
    own = Member.objects.in_subtree(phuc_xa).first()
    other = (
        Member.objects.exclude(name_search=own.name_search).exclude(branch__path__startswith=phuc_xa.path[:8]).first()
    )
    page = client.get("/registry/members/", {"q": own.full_name})
    assert page.status_code == 200
    assert f"/registry/members/{own.pk}/" in page.content.decode()
    page = client.get("/registry/members/", {"q": other.full_name})
    assert f"/registry/members/{other.pk}/" not in page.content.decode(), (
        "a member of another district is out of the clerk's sight"
    )


def test_the_city_dashboard_shows_plan_99_progress_right_away(demo, client):
    assert IndicatorValue.objects.exists()
    user = get_user_model().objects.get(username="lanhdao.hanoi")
    client.force_login(user)
    page = client.get("/plans/dashboard/")
    assert page.status_code == 200
    assert "99/KH-KHHN" in page.content.decode()


def test_the_commune_clerk_sees_the_learning_titles_figures_of_every_year_from_2021_to_2026(demo, client):
    clerk = get_user_model().objects.get(username="canbo.phucxa")
    phuc_xa = Branch.objects.get(code="00001", founded_on__isnull=True)
    client.force_login(clerk)
    for year in range(2021, 2027):
        household = TitleFigure.objects.get(branch=phuc_xa, kind__code="gia-dinh-hoc-tap", year=year)
        assert 0 < household.recognised <= household.registered <= household.eligible
        page = client.get("/titles/figures/", {"branch": phuc_xa.pk, "year": year})
        assert page.status_code == 200
        html = page.content.decode()
        assert "Gia đình học tập" in html and str(household.eligible) in html, year
