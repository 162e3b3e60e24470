"""The dashboard's money and scholarship panels: stored by the recompute, read in one query
each, and in agreement with the funds and scholarships reports."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds import services as fund_services
from funds.models import Donation
from funds.periods import Period
from funds.reports import raised_by_fund_model, raised_total
from plans.indicators import panel_totals_recompute
from plans.models import MoneyYearTotal, ScholarshipYearTotal
from plans.selectors import money_panel, scholarship_panel
from scholarships import services as scholarship_services
from scholarships.models import Award
from scholarships.reports import awards_total
from tests.factories import donate, make_round, pay

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def money(cast, tree, funds):
    donate(cast.admin, funds.city, 5_000_000, day=D(2017, 3, 1))
    donate(cast.admin, funds.phuc_xa, 3_000_000, day=D(2017, 5, 1))
    donate(cast.admin, funds.phuc_xa_clan, 2_000_000, day=D(2018, 5, 1))
    voided = donate(cast.admin, funds.truc_bach, 9_000_000, day=D(2018, 6, 1))
    fund_services.donation_void(actor=cast.admin, donation=voided, reason="Ghi nhầm số tiền")
    scholarship_round = make_round(cast.admin, tree.phuc_xa, funds.phuc_xa, awarded_on=D(2017, 6, 1))
    pay(cast.admin, scholarship_round, 500_000, day=D(2017, 6, 1))
    pay(cast.admin, scholarship_round, 700_000, day=D(2018, 6, 1), recipient_name="Trần Văn Cường")
    panel_totals_recompute()
    return funds


def test_money_raised_per_year_and_fund_model_excludes_voided_donations(tree, money):
    panel = money_panel(tree.ba_dinh)
    assert panel.available
    rows = {year: total for year, _cells, total in panel.rows()}
    assert rows == {2017: 3_000_000, 2018: 2_000_000}
    assert set(panel.fund_models) == {"Quỹ khuyến học của Hội các cấp", "Quỹ khuyến học dòng họ"}
    whole = Period(start=D(2017, 1, 1), end=D(2018, 12, 31), label="2017–2018")
    assert sum(rows.values()) == raised_total(tree.ba_dinh, whole)["amount"]
    assert sum(total for _y, _c, total in money_panel(tree.city).rows()) == raised_total(tree.city, whole)["amount"]


def test_scholarship_turns_and_amounts_per_year_match_the_scholarship_report(tree, money):
    panel = scholarship_panel(tree.city)
    assert panel.rows == [(2017, 1, 500_000), (2018, 1, 700_000)]
    whole = Period(start=D(2017, 1, 1), end=D(2018, 12, 31), label="2017–2018")
    assert sum(t for _y, t, _a in panel.rows) == awards_total(tree.city, whole)["turns"]


def test_each_panel_is_one_query(tree, money):
    with CaptureQueriesContext(connection) as queries:
        money_panel(tree.city)
        scholarship_panel(tree.city)
    assert len(queries) == 2


def test_the_panels_show_the_figures_of_the_last_recompute_not_the_live_rows(cast, tree, money):
    donate(cast.admin, money.phuc_xa, 1_000_000, day=D(2018, 7, 1))
    assert sum(total for _y, _c, total in money_panel(tree.ba_dinh).rows()) == 5_000_000
    panel_totals_recompute()
    assert sum(total for _y, _c, total in money_panel(tree.ba_dinh).rows()) == 6_000_000


@pytest.mark.parametrize("branch_name", ["city", "ba_dinh", "phuc_xa", "truc_bach", "hoan_kiem"])
def test_stored_totals_after_a_recompute_equal_the_funds_and_scholarship_reports(tree, money, branch_name):
    branch = getattr(tree, branch_name)
    years = {year for year, _c, _t in money_panel(branch).rows()} | {2017, 2018}
    panel = money_panel(branch)
    for year in sorted(years):
        period = Period(start=D(year, 1, 1), end=D(year, 12, 31), label=str(year))
        report = {
            row.label: (row.figures["amount"], row.figures["donations"]) for row in raised_by_fund_model(branch, period)
        }
        stored = {name: panel.cells[(y, name)] for y, name in panel.cells if y == year}
        assert stored == report
        turns = {y: (t, a) for y, t, a in scholarship_panel(branch).rows}
        figures = awards_total(branch, period)
        assert turns.get(year, (0, 0)) == (figures["turns"], figures["amount"])


def test_a_voided_record_leaves_the_stored_totals_at_the_next_recompute(cast, tree, money):
    assert MoneyYearTotal.objects.get(branch=tree.phuc_xa, year=2018).amount == 2_000_000
    fund_services.donation_void(
        actor=cast.admin, donation=Donation.objects.get(amount=2_000_000), reason="Trùng biên lai"
    )
    scholarship_services.award_void(actor=cast.admin, award=Award.objects.get(amount=700_000), reason="Trả nhầm")
    panel_totals_recompute()
    assert not MoneyYearTotal.objects.filter(year=2018).exists()
    assert not ScholarshipYearTotal.objects.filter(year=2018).exists()
    assert money_panel(tree.city).years == [2017]
    assert scholarship_panel(tree.city).rows == [(2017, 1, 500_000)]


def test_only_non_zero_totals_are_stored_and_a_second_run_writes_nothing(tree, money):
    assert not MoneyYearTotal.objects.filter(branch__in=[tree.truc_bach, tree.hang_bac]).exists()
    assert not ScholarshipYearTotal.objects.filter(branch=tree.hoan_kiem).exists()
    assert panel_totals_recompute() == 0


def test_the_dashboard_shows_both_panels(client_for, cast, tree, money, plan_data, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client_for(cast.city_leader).get("/plans/dashboard/")
    html = response.content.decode()
    assert "money-chart" in html and "scholarship-chart" in html
    # 2017: the city's 5 and Phúc Xá's 3 million, one fund model (the table shows each column in one unit)
    assert {year: total for year, _cells, total in response.context["money"].rows()} == {
        2017: 8_000_000,
        2018: 2_000_000,
    }
    assert ">8,00</td>" in html and "(million đồng)" in html


def test_the_dashboard_query_count_does_not_grow_with_more_donations_years_and_awards(
    client_for, cast, tree, money, plan_data, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.city_leader)
    client.get("/plans/dashboard/")  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as before:
        client.get("/plans/dashboard/")
    scholarship_round = make_round(cast.admin, tree.phuc_xa, money.phuc_xa, awarded_on=D(2019, 6, 1))
    for year in (2019, 2020, 2021):
        donate(cast.admin, money.phuc_xa, 1_000_000, day=D(year, 2, 1))
        donate(cast.admin, money.city, 4_000_000, day=D(year, 3, 1))
        pay(cast.admin, scholarship_round, 300_000, day=D(year, 9, 1))
    panel_totals_recompute()
    with CaptureQueriesContext(connection) as after:
        response = client.get("/plans/dashboard/")
    assert response.context["money"].years == [2017, 2018, 2019, 2020, 2021]
    assert len(after) == len(before)
