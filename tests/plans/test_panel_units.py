"""The dashboard's money and scholarship tables give each column one unit, named in its header
(issue 15 item 9): never "561 triệu đồng" above "1,1 tỷ đồng"."""

import datetime
import re

import pytest

from plans.indicators import panel_totals_recompute
from tests.factories import donate, make_round, pay

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def large_money(cast, tree, funds):
    donate(cast.admin, funds.phuc_xa, 561_000_000, day=D(2017, 3, 1))
    donate(cast.admin, funds.phuc_xa, 1_100_000_000, day=D(2018, 3, 1))
    donate(cast.admin, funds.phuc_xa_clan, 35_000_000, day=D(2018, 5, 1))
    scholarship_round = make_round(cast.admin, tree.phuc_xa, funds.phuc_xa, awarded_on=D(2017, 6, 1))
    pay(cast.admin, scholarship_round, 800_000, day=D(2017, 6, 1))
    pay(cast.admin, scholarship_round, 2_500_000, day=D(2018, 6, 1), recipient_name="Trần Văn Cường")
    panel_totals_recompute()
    return funds


def table(html: str, test_id: str) -> str:
    start = html.index(f'data-testid="{test_id}"')
    return html[start : html.index("</table>", start)]


def cells(html: str) -> list[str]:
    return re.findall(r'<td class="text-end text-nowrap[^"]*" title="[^"]*">([^<]*)</td>', html)


def test_a_column_with_561_million_and_1_1_billion_shows_both_in_billions(client_for, cast, tree, large_money, client):
    client = client_for(cast.district_leader)
    client.cookies["django_language"] = "en"
    html = client.get(f"/plans/dashboard/{tree.ba_dinh.pk}/").content.decode()
    money = table(html, "money-table")
    headers = re.findall(r'<span class="unit">\(([^)]*)\)</span>', money)
    # the association's fund model (0,56 and 1,10 billion), the clan's (0 and 35 million), the total
    assert headers == ["billion đồng", "million đồng", "billion đồng"]
    assert cells(money) == ["0,56", "0,0", "0,56", "1,10", "35,0", "1,14"]
    assert 'title="561.000.000 ₫"' in money  # the exact amount on hover
    assert "million đồng</td>" not in money and "billion đồng</td>" not in money


def test_the_scholarship_amounts_share_one_unit(client_for, cast, tree, large_money):
    client = client_for(cast.district_leader)
    client.cookies["django_language"] = "en"
    scholarships = table(client.get(f"/plans/dashboard/{tree.ba_dinh.pk}/").content.decode(), "scholarship-table")
    assert re.findall(r'<span class="unit">\(([^)]*)\)</span>', scholarships) == ["million đồng"]
    assert cells(scholarships) == ["0,80", "2,50"]
