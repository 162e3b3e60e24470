"""The dashboard's money and scholarship panels and its chart data on the cached path (issue
16): read in one query, rendered once per set of stored totals, and a recompute's new totals
shown on the next request."""

import datetime
import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.indicators import panel_totals_recompute
from plans.models import MoneyYearTotal, RecomputeRun, RunStatus
from plans.selectors import (
    dashboard_panels,
    dashboard_targets,
    dashboard_values_version,
    dashboard_version_and_run,
    money_panel,
    scholarship_panel,
)
from tests.factories import donate
from tests.plans.test_panels import money  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db
D = datetime.date


def _chart_data(html: str) -> dict:
    found = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


@pytest.mark.parametrize("branch_name", ["city", "ba_dinh", "phuc_xa", "hoan_kiem"])
def test_the_panels_in_one_query_equal_each_panel_read_alone(tree, money, branch_name):  # noqa: F811
    branch = getattr(tree, branch_name)
    with CaptureQueriesContext(connection) as queries:
        both = dashboard_panels(branch)
    assert len(queries) == 1
    assert both == (money_panel(branch), scholarship_panel(branch))


def test_the_version_read_with_the_latest_run_is_the_values_version(tree, plan_data):
    targets = dashboard_targets(tree.city)
    assert dashboard_version_and_run(tree.city, targets) == (dashboard_values_version(tree.city, targets), None)
    run = RecomputeRun.objects.create(status=RunStatus.DONE)
    with CaptureQueriesContext(connection) as queries:
        version, latest = dashboard_version_and_run(tree.city, targets)
    assert len(queries) == 1
    assert version == dashboard_values_version(tree.city, targets) and version[1] > 0
    assert latest == run and latest.status == RunStatus.DONE


def test_new_totals_of_a_recompute_show_on_the_next_request_although_the_panels_were_cached(
    client_for,
    cast,
    tree,
    money,  # noqa: F811
    plan_data,
):
    client = client_for(cast.city_leader)
    cache.clear()
    first = _chart_data(client.get("/plans/dashboard/").content.decode())
    assert _chart_data(client.get("/plans/dashboard/").content.decode()) == first  # from the cache
    donate(cast.admin, money.phuc_xa, 7_000_000, day=D(2019, 5, 1))
    panel_totals_recompute()

    html = client.get("/plans/dashboard/").content.decode()
    data = _chart_data(html)
    assert first["money"]["years"] == [2017, 2018]
    assert data["money"]["years"] == [2017, 2018, 2019]
    assert '<th scope="row">2019</th>' in html


def test_a_changed_total_with_the_same_years_is_not_served_from_the_cache(client_for, cast, tree, money, plan_data):  # noqa: F811
    client = client_for(cast.city_leader)
    before = _chart_data(client.get("/plans/dashboard/").content.decode())
    MoneyYearTotal.objects.filter(branch=tree.city, year=2018).update(amount=2_500_000)
    after = _chart_data(client.get("/plans/dashboard/").content.decode())
    assert sum(sum(s["values"]) for s in after["money"]["series"]) == (
        sum(sum(s["values"]) for s in before["money"]["series"]) + 500_000
    )


def test_the_chart_data_holds_the_targets_the_panels_and_the_labels(client_for, cast, tree, money, plan_data):  # noqa: F811
    html = client_for(cast.city_leader).get("/plans/dashboard/").content.decode()
    data = _chart_data(html)
    assert set(data) == {"targets", "money", "scholarships", "dashboardUrl", "viewQuery", "labels"}
    assert len(data["targets"]) > 0 and data["scholarships"]["years"] == [2017, 2018]
    assert data["dashboardUrl"] == "/plans/dashboard/"
