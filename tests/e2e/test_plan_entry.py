"""A manager enters a plan with one target in the portal; after the recompute a leader sees it
on the dashboard, its milestones in the year-by-year table and on the time axis."""

import pytest

from associations.models import OrganizationKind
from plans.models import IndicatorDefinition, Plan
from plans.services import indicators_recompute_all
from tests.e2e.conftest import sign_in
from tests.factories import OrganizationFactory, org_with_board

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_a_plan_with_one_target_and_a_leader_sees_it_after_the_recompute(
    browser, live_server, cast, tree
):
    IndicatorDefinition.objects.create(
        code="boards-agencies",
        name="Cơ quan có ban khuyến học",
        numerator_measure="registry.organizations_with_board",
        numerator_filters={"kinds": ["agency"]},
        denominator_measure="registry.organizations",
        denominator_filters={"kinds": ["agency"]},
    )
    org_with_board(tree.phuc_xa, kind=OrganizationKind.AGENCY)
    OrganizationFactory(branch=tree.truc_bach, kind=OrganizationKind.AGENCY)

    manager = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = manager.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "manager_badinh", cast.password)
    page.wait_for_url("**/")
    page.goto("/plans/new/")
    page.locator("[name=code]").fill("12/KH-KHHN")
    page.locator("[name=title]").fill("Kế hoạch khuyến học quận Ba Đình 2021–2030")
    page.locator("[name=issuing_branch]").select_option(label="Quận Ba Đình")
    page.locator("[name=issued_on]").fill("15/03/2021")
    page.locator("[name=starts_on]").fill("01/01/2021")
    page.locator("[name=ends_on]").fill("31/12/2030")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url("**/plans/*/")
    plan = Plan.objects.get(code="12/KH-KHHN")

    page.locator(f"a[href='/plans/{plan.pk}/targets/new/']").click()
    page.locator("[name=definition]").select_option(label="Cơ quan có ban khuyến học")
    page.locator("[name=root_branch]").select_option(label="Quận Ba Đình")
    page.locator("[name=milestones]").fill("2025: 70\n2030: 80")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(f"**/plans/{plan.pk}/")
    assert "Cơ quan có ban khuyến học" in page.locator("table").inner_text()
    manager.close()

    indicators_recompute_all()  # the worker's run, synchronously

    leader = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = leader.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "leader_badinh", cast.password)
    page.wait_for_url("**/")
    page.goto("/plans/dashboard/")
    page.get_by_test_id("plan-chooser").get_by_role("link", name="12/KH-KHHN").click()
    page.wait_for_url(f"**?plan={plan.pk}")
    card = page.get_by_test_id("target-boards-agencies")
    assert "Cơ quan có ban khuyến học" in card.inner_text()
    assert "50,00%" in card.get_by_test_id("percent").inner_text()
    years = card.get_by_test_id("year-table")
    assert years.locator("tr[data-year='2025']").is_visible() and years.locator("tr[data-year='2030']").is_visible()
    # The trend is drawn on a linear axis of days: 31/12/2025 and 31/12/2030 stand apart by time.
    page.wait_for_function(
        "() => window.Chart && Object.values(Chart.instances).some(c => c.scales.x.type === 'linear')"
    )
    gap = page.evaluate(
        """() => {
          const chart = Object.values(Chart.instances).find(c => c.scales.x.type === 'linear');
          const milestones = chart.data.datasets[1].data.map(p => p.x);
          return milestones[1] - milestones[0];
        }"""
    )
    assert gap == 1826  # days from 31/12/2025 to 31/12/2030
    assert errors == []
    leader.close()
