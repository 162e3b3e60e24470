"""Found walking issue 14 from `make run`: the trend's time axis put its ticks on whatever
days Chart.js's linear scale chose (02/12/2020, 08/01/2022, 04/10/2024 …) and the last two
ran into each other. The ticks now fall on 01/01 of the years, and the year table of a year
without a milestone says it is judged against the target."""

import pytest

from plans.models import TargetMilestone
from plans.services import plan_99_load
from tests.e2e.conftest import sign_in
from tests.plans.test_targets_level import city_target

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_time_axis_ticks_fall_on_new_years_day(browser, live_server, cast, tree):
    target = city_target(tree)
    TargetMilestone.objects.create(target=target, year=2025, percent=70)
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "leader_hanoi", cast.password)
    page.wait_for_url("**/")
    page.goto(f"/plans/dashboard/{tree.city.pk}/?plan={target.plan_id}")
    page.wait_for_function(
        "() => window.Chart && Object.values(Chart.instances).some(c => c.scales.x.type === 'linear')"
    )
    labels = page.evaluate(
        """() => Object.values(Chart.instances).find(c => c.scales.x.type === 'linear')
                 .scales.x.ticks.map(t => t.label)"""
    )
    assert labels and all(label.startswith("01/01/") for label in labels), labels
    years = [int(label[-4:]) for label in labels]
    assert years == sorted(years) and years[0] <= 2021 and years[-1] >= 2030
    table = page.get_by_test_id("year-table").first
    # 2024 (66,67%) has no milestone of its own: below the target, not "below the milestone".
    row = table.locator("tr[data-year='2024']").inner_text()
    assert "—" in row and "Dưới mốc" not in row, row
    assert "Dưới mốc" in table.locator("tr[data-year='2025']").inner_text()  # 66,67% under 2025's 70%
    assert errors == []
    context.close()


def test_a_past_plan_is_one_click_away_on_the_dashboard(browser, live_server, cast, tree):
    # Found walking issue 14: the past plans sat in a closed <details>: two clicks away.
    plan_99_load()
    city_target(tree)
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, "leader_hanoi", cast.password)
    page.wait_for_url("**/")
    page.goto("/plans/dashboard/")
    past = page.get_by_test_id("past-plans").get_by_role("link", name="99/KH-KHHN")
    assert past.is_visible()
    past.click()  # the one click
    page.wait_for_url("**?plan=*")
    assert "99/KH-KHHN" in page.locator("h2").first.inner_text()
    context.close()
