"""Report figures against sums computed independently in the test, in Python."""

import datetime
import io
import random

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from funds import reports
from funds.periods import Period
from funds.services import donation_void
from tests.factories import donate

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(cast, funds):
    """Donations scattered over 2016–2018 in every fund, a few of them voided."""
    rng = random.Random(20171023)
    made = []
    fund_list = [funds.city, funds.ba_dinh, funds.phuc_xa, funds.phuc_xa_clan, funds.truc_bach, funds.hoan_kiem]
    for index in range(60):
        fund = rng.choice(fund_list)
        day = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randrange(0, 3 * 365))
        donation = donate(cast.admin, fund, rng.randrange(1, 500) * 10_000, day=day)
        if index % 9 == 0:
            donation_void(actor=cast.admin, donation=donation, reason="Sai")
            donation.refresh_from_db()
        made.append(donation)
    return made


def expected(history, *, start, end, under, predicate=lambda d: True):
    chosen = [
        d
        for d in history
        if not d.is_voided
        and start <= d.received_on <= end
        and d.fund.branch.path.startswith(under.path)
        and predicate(d)
    ]
    return sum(d.amount for d in chosen), len(chosen)


PERIODS = [
    Period.calendar_year(2017),
    Period.first_months(2017, 9),
    Period.school_year(2016),
    Period.date_range(datetime.date(2016, 2, 29), datetime.date(2018, 1, 15)),
]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.label)
def test_money_raised_per_period_matches_an_independent_sum(tree, history, period):
    for branch in (tree.city, tree.ba_dinh, tree.phuc_xa):
        amount, count = expected(history, start=period.start, end=period.end, under=branch)
        assert reports.raised_total(branch, period) == {"amount": amount, "donations": count}


def test_the_periods_have_the_right_ends():
    assert (Period.first_months(2016, 2).start, Period.first_months(2016, 2).end) == (
        datetime.date(2016, 1, 1),
        datetime.date(2016, 2, 29),
    )
    school = Period.school_year(2016)
    assert (school.start, school.end) == (datetime.date(2016, 9, 1), datetime.date(2017, 8, 31))


def test_money_raised_by_child_branch_rolls_up_the_subtree_in_constant_queries(
    tree, history, django_assert_num_queries
):
    period = Period.calendar_year(2017)
    with django_assert_num_queries(2):
        rows = reports.raised_by_branch(tree.city, period)
    by_label = {row.label: row.figures for row in rows}
    for child in (tree.ba_dinh, tree.hoan_kiem):
        amount, count = expected(history, start=period.start, end=period.end, under=child)
        assert by_label[child.name] == {"amount": amount, "donations": count}
    own_amount, _ = expected(
        history,
        start=period.start,
        end=period.end,
        under=tree.city,
        predicate=lambda d: d.fund.branch_id == tree.city.pk,
    )
    own = [row for row in rows if row.filters.get("own")]
    assert own[0].figures["amount"] == own_amount
    assert sum(row.figures["amount"] for row in rows) == reports.raised_total(tree.city, period)["amount"]


def test_money_raised_by_fund_model_adds_up_to_the_total(tree, funds, history):
    period = Period.school_year(2016)
    rows = reports.raised_by_fund_model(tree.ba_dinh, period)
    clan_amount, _ = expected(
        history,
        start=period.start,
        end=period.end,
        under=tree.ba_dinh,
        predicate=lambda d: d.fund.fund_model_id == funds.phuc_xa_clan.fund_model_id,
    )
    assert {row.label: row.figures["amount"] for row in rows}[funds.phuc_xa_clan.fund_model.name] == clan_amount
    assert sum(row.figures["amount"] for row in rows) == reports.raised_total(tree.ba_dinh, period)["amount"]


def test_balances_roll_up_the_branch_tree(tree, funds, history):
    for fund in (funds.ba_dinh, funds.phuc_xa, funds.phuc_xa_clan, funds.truc_bach):
        fund.refresh_from_db()
    rows = {row.label: row.figures for row in reports.balances_by_branch(tree.ba_dinh)}
    assert rows[tree.phuc_xa.name]["balance"] == funds.phuc_xa.balance + funds.phuc_xa_clan.balance
    assert rows[tree.truc_bach.name]["balance"] == funds.truc_bach.balance
    assert reports.balances_total(tree.ba_dinh)["balance"] == sum(
        f.balance for f in (funds.ba_dinh, funds.phuc_xa, funds.phuc_xa_clan, funds.truc_bach)
    )


def test_each_figure_on_the_report_page_links_to_the_records_behind_it(cast, tree, history, client_for):
    client = client_for(cast.district_leader)
    response = client.get(reverse("funds:report"), {"period": "school_year", "year": 2016})
    assert response.status_code == 200
    for row in response.context["by_branch"] + response.context["by_model"]:
        listed = client.get(row.url)
        assert listed.context["totals"] == {"amount": row.figures["amount"], "count": row.figures["donations"]}, row.url
    for row in response.context["balances_by_branch"]:
        assert client.get(row.url).context["totals"]["balance"] == row.figures["balance"]


def test_the_report_stays_inside_the_users_subtree_even_when_asked_for_another_branch(cast, tree, history, client_for):
    response = client_for(cast.district_leader).get(reverse("funds:report"), {"branch": tree.hoan_kiem.pk})
    assert response.context["branch"] == tree.ba_dinh  # the foreign branch is not a valid choice


def test_the_report_exports_to_excel_with_the_same_figures(cast, tree, history, client_for):
    response = client_for(cast.city_leader).get(
        reverse("funds:report"), {"period": "year", "year": 2017, "format": "xlsx"}
    )
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(workbook.sheetnames) == 5
    total_row = list(workbook.worksheets[0].values)[-1]
    assert (
        total_row[1]
        == expected(history, start=datetime.date(2017, 1, 1), end=datetime.date(2017, 12, 31), under=tree.city)[0]
    )
