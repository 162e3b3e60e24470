"""The dashboard's money and scholarship panels agree with the funds and scholarships reports."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds import services as fund_services
from funds.periods import Period
from funds.reports import raised_total
from plans.selectors import money_panel, scholarship_panel
from scholarships.reports import awards_total
from tests.funds.conftest import donate, fund_model, funds, make_round, pay  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def money(cast, tree, funds):  # noqa: F811
    donate(cast.admin, funds.city, 5_000_000, day=D(2017, 3, 1))
    donate(cast.admin, funds.phuc_xa, 3_000_000, day=D(2017, 5, 1))
    donate(cast.admin, funds.phuc_xa_clan, 2_000_000, day=D(2018, 5, 1))
    voided = donate(cast.admin, funds.truc_bach, 9_000_000, day=D(2018, 6, 1))
    fund_services.donation_void(actor=cast.admin, donation=voided, reason="Ghi nhầm số tiền")
    scholarship_round = make_round(cast.admin, tree.phuc_xa, funds.phuc_xa, awarded_on=D(2017, 6, 1))
    pay(cast.admin, scholarship_round, 500_000, day=D(2017, 6, 1))
    pay(cast.admin, scholarship_round, 700_000, day=D(2018, 6, 1), recipient_name="Trần Văn Cường")
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


def test_the_dashboard_shows_both_panels(client_for, cast, tree, money, plan_data, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client_for(cast.city_leader).get("/plans/dashboard/")
    html = response.content.decode()
    assert "money-chart" in html and "scholarship-chart" in html
    assert "8.000.000 ₫" in html  # 2017: the city's 5 and Phúc Xá's 3 million, one fund model
