"""A target's branches below (its drill-down) are loaded when the user opens them (issue 16):
the dashboard carries the headline figures, the drill-down brings the chart and the table of
the branches below; each is cached, never older than the last recompute, and takes the same
queries whatever the number of branches below."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.utils import translation

from associations.models import BranchLevel, Member
from plans.models import Plan, RecomputeRun, RunStatus, Target
from plans.services import indicators_recompute_all
from tests.factories import TODAY, MemberFactory, OrganizationFactory, make_branch

pytestmark = pytest.mark.django_db

# Session, user, staff profile, the branch, the target, its milestones, the stored values' version.
DRILL_DOWN_FROM_THE_CACHE = 7
# … and, to render it: this branch's values, its children's values (with the re-hung chapters'
# moves inside), the latest run.
DRILL_DOWN_RENDERING = DRILL_DOWN_FROM_THE_CACHE + 3


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _url(branch, target) -> str:
    return f"/plans/dashboard/{branch.pk}/target/{target.pk}/children/"


def _row(html: str, name: str) -> list[str]:
    """The cells of the table row of the branch `name`, tags removed."""
    row = html.split(f">{name}</a>")[1].split("</tr>")[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_dashboard_offers_each_targets_branches_below_without_listing_them(client_for, cast, tree, plan_data):
    page = client_for(cast.district_leader).get("/plans/dashboard/").content.decode()
    assert f'hx-get="{_url(tree.ba_dinh, plan_data.membership)}"' in page
    assert f'href="{_url(tree.ba_dinh, plan_data.membership)}"' in page  # without JavaScript: a link
    assert "Phường Phúc Xá" not in page and 'data-testid="children-' not in page


def test_opening_a_targets_branches_below_shows_each_with_its_figures(client_for, cast, tree, plan_data):
    response = client_for(cast.district_leader).get(_url(tree.ba_dinh, plan_data.membership), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html  # the fragment alone, for htmx
    assert _row(html, "Phường Phúc Xá")[:2] == ["3", "10"]
    assert f'href="/plans/dashboard/{tree.phuc_xa.pk}/"' in html
    assert 'class="children-data"' in html  # the chart's data comes with it


def test_without_javascript_the_branches_below_open_on_a_page_of_their_own(client_for, cast, tree, plan_data):
    response = client_for(cast.district_leader).get(_url(tree.ba_dinh, plan_data.board))
    html = response.content.decode()
    assert "<html" in html and 'data-testid="breadcrumb"' in html
    assert _row(html, "Phường Phúc Xá")[:2] == ["2", "3"] and _row(html, "Phường Trúc Bạch")[:2] == ["0", "1"]
    assert f'href="/plans/dashboard/{tree.ba_dinh.pk}/"' in html  # back to the dashboard
    assert "HX-Request" in response["Vary"]


def test_a_target_that_does_not_cover_the_branch_has_no_drill_down_there(client_for, cast, tree, plan_data):
    plan = Plan.objects.create(
        code="7/KH-HK",
        title="Kế hoạch của Hoàn Kiếm",
        issuing_branch=tree.hoan_kiem,
        issued_on=datetime.date(2019, 1, 1),
        starts_on=datetime.date(2019, 1, 1),
        ends_on=datetime.date(2020, 12, 31),
    )
    elsewhere = Target.objects.create(
        plan=plan,
        indicator="board_coverage",
        threshold_percent=70,
        deadline=datetime.date(2020, 12, 31),
        root_branch=tree.hoan_kiem,
    )
    client = client_for(cast.city_leader)
    assert client.get(_url(tree.ba_dinh, elsewhere)).status_code == 404
    assert client.get(_url(tree.hoan_kiem, elsewhere)).status_code == 200


def test_a_new_member_shows_on_the_dashboard_and_its_drill_down_after_the_recompute(client_for, cast, tree, plan_data):
    client = client_for(cast.district_leader)
    drill_down = _url(tree.ba_dinh, plan_data.membership)
    assert "3 of 10" in client.get("/plans/dashboard/").content.decode()
    assert _row(client.get(drill_down, HTTP_HX_REQUEST="true").content.decode(), "Phường Phúc Xá")[:2] == ["3", "10"]

    colleague = Member.objects.filter(branch=tree.phuc_xa).first()
    MemberFactory(branch=tree.phuc_xa, organization=colleague.organization)
    indicators_recompute_all(today=TODAY)

    assert "4 of 10" in client.get("/plans/dashboard/").content.decode()
    assert _row(client.get(drill_down, HTTP_HX_REQUEST="true").content.decode(), "Phường Phúc Xá")[:2] == ["4", "10"]


def test_the_drill_down_takes_the_same_queries_rendered_or_cached_whatever_the_number_of_children(
    client_for, cast, tree, plan_data, django_assert_num_queries
):
    client = client_for(cast.city_leader)
    RecomputeRun.objects.create(status=RunStatus.DONE)
    url = _url(tree.city, plan_data.board)
    client.get("/plans/dashboard/")  # the session and content types warmed
    cache.clear()
    with django_assert_num_queries(DRILL_DOWN_RENDERING):
        client.get(url, HTTP_HX_REQUEST="true")
    with django_assert_num_queries(DRILL_DOWN_FROM_THE_CACHE):
        client.get(url, HTTP_HX_REQUEST="true")

    for n in range(12):
        OrganizationFactory(branch=make_branch(f"Quận mới {n}", BranchLevel.DISTRICT, tree.city))
    indicators_recompute_all(today=TODAY)
    with django_assert_num_queries(DRILL_DOWN_RENDERING):
        html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert html.count("<tr class=") == 14
    with django_assert_num_queries(DRILL_DOWN_FROM_THE_CACHE):
        assert client.get(url, HTTP_HX_REQUEST="true").content.decode() == html


def test_the_drill_down_answers_when_the_cache_cannot_be_reached(client_for, cast, tree, plan_data, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("the cache is down")

    monkeypatch.setattr("plans.views.cache.get", down)
    monkeypatch.setattr("plans.views.cache.set", down)
    response = client_for(cast.district_leader).get(_url(tree.ba_dinh, plan_data.board), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and _row(response.content.decode(), "Phường Phúc Xá")[:2] == ["2", "3"]
