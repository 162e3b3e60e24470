"""The dashboard's tables on a 1366 px laptop and on a 375 px phone (issue 15 item 9): the page
never scrolls sideways, a wide table scrolls inside its own box, and no cell is broken into
one word per line."""

import pytest

from associations.models import Branch
from funds.models import FundModel
from plans.models import MoneyYearTotal, ScholarshipYearTotal
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The eight fund models Hà Nội reports on (funds/migrations/0003_seed_fund_models.py).
FUND_MODELS = [
    "Quỹ khuyến học của Hội các cấp",
    "Quỹ khuyến học dòng họ",
    "Quỹ khuyến học nhà trường",
    "Quỹ khuyến học doanh nghiệp",
    "Quỹ khuyến học chi hội, thôn, tổ dân phố",
    "Quỹ khuyến học cơ quan, đơn vị",
    "Quỹ khuyến học cá nhân, gia đình",
    "Quỹ khuyến học khác",
]
LONG_NAME = "Quận Hoàn Kiếm (các phường Hàng Bạc, Hàng Bồ, Hàng Buồm, Lý Thái Tổ)"

# For each table cell of the page: how many lines its text takes, from the boxes of its text.
CELL_LINES = """() => [...document.querySelectorAll('main table td, main table tbody th')].map(cell => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    return {text: cell.innerText.trim(), lines: tops.size, words: cell.innerText.trim().split(/\\s+/).length};
})"""


@pytest.fixture
def wide_panels(tree, plan_data):
    """All eight fund models with money in each of ten years, amounts from thousands to billions."""
    Branch.objects.filter(pk=tree.hoan_kiem.pk).update(name=LONG_NAME)
    models = [
        FundModel.objects.get_or_create(name=name, defaults={"code": f"mo-hinh-{position}", "ordering": position})[0]
        for position, name in enumerate(FUND_MODELS)
    ]
    MoneyYearTotal.objects.bulk_create(
        MoneyYearTotal(
            branch=tree.city,
            year=year,
            fund_model=model,
            amount=(index + 1) * 137_000_000 * (year - 2016) + 561_000,
            donations=10 * (index + 1),
        )
        for year in range(2017, 2027)
        for index, model in enumerate(models)
    )
    ScholarshipYearTotal.objects.bulk_create(
        ScholarshipYearTotal(
            branch=tree.city, year=year, turns=1_000 * (year - 2016), amount=561_000_000 * (year - 2016)
        )
        for year in range(2017, 2027)
    )


def layout(page) -> dict:
    return page.evaluate(
        """() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        boxes: [...document.querySelectorAll('main .table-responsive')].map(box => ({
            testid: box.querySelector('table').dataset.testid,
            scrolls: box.scrollWidth > box.clientWidth,
        })),
    })"""
    )


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (375, 812)])
def test_the_dashboard_fits_the_window_and_no_cell_wraps_word_by_word(
    browser, live_server, cast, wide_panels, width, height, tmp_path
):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, "leader_hanoi", cast.password)
    page.wait_for_url("**/")
    page.goto("/plans/dashboard/")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 4")
    # The branches below load when a target's drill-down is opened (issue 16): open each.
    charts = page.evaluate("() => Object.keys(Chart.instances).length")
    summaries = page.locator("details.drill-down > summary")
    for index in range(summaries.count()):
        summaries.nth(index).click()
    page.locator("details.drill-down table").nth(summaries.count() - 1).wait_for()
    page.wait_for_function(f"() => Object.keys(Chart.instances).length >= {charts + summaries.count()}")
    page.screenshot(path=tmp_path / f"dashboard-{width}.png", full_page=True)  # to look at when it fails

    measured = layout(page)
    assert measured["scrollWidth"] <= measured["innerWidth"], "the page scrolls sideways"
    assert {box["testid"] for box in measured["boxes"]} >= {"money-table", "scholarship-table", "year-table"}
    scrolling = {box["testid"] for box in measured["boxes"] if box["scrolls"]}
    if width == 1366:
        assert "money-table" not in scrolling, "the money table does not fit a 1366 px window"
    else:
        assert "money-table" in scrolling  # ten columns: it scrolls in its own box on a phone

    cells = page.evaluate(CELL_LINES)
    assert any(cell["text"] == LONG_NAME for cell in cells)
    # A short cell (a number, a date, a status, a year's label) takes at most two lines; a long
    # name may take more, but keeps at least two words on each line on average.
    broken = [
        cell
        for cell in cells
        if (len(cell["text"]) <= 30 and cell["lines"] > 2) or (cell["lines"] > 1 and cell["words"] < 2 * cell["lines"])
    ]
    assert broken == []
    context.close()
