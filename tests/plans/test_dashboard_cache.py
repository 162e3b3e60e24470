"""The dashboard's targets are rendered once and read from the cache (issue 16): never older
than the last recompute, nor than the last change of a target; the same number of queries
whatever the size of the tree; and the page still answers when the cache does not."""

import pytest
from django.core.cache import cache
from django.utils import translation

from associations.models import BranchLevel
from plans.models import RecomputeRun, RunStatus, Target
from plans.services import indicators_recompute_all
from tests.factories import TODAY, OrganizationFactory, make_branch, org_with_board

pytestmark = pytest.mark.django_db

# The whole page from the page cache (khuyenhoc/page_cache.py): session, user, staff profile.
QUERIES_FROM_THE_CACHE = 3
# Its cached fragments (session, user, staff profile, plan choices, targets, milestones, the
# stored values' version with the latest run, the money and scholarship panels (one query); the
# user's own branch needs no breadcrumb query) …
QUERIES_FROM_THE_FRAGMENTS = 8
# … and, to render the targets: this branch's values, its children's values, the re-hung
# chapters' moves (inside the children's query), the latest run once more.
QUERIES_RENDERING = QUERIES_FROM_THE_FRAGMENTS + 3


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _text(response) -> str:
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_recompute_shows_on_the_next_request_although_the_targets_were_cached(client_for, cast, tree, plan_data):
    client = client_for(cast.city_leader)
    assert "3 of 5" in _text(client.get("/plans/dashboard/"))
    assert "3 of 5" in _text(client.get("/plans/dashboard/"))  # from the cache

    org_with_board(tree.truc_bach)  # one more organisation with a board
    assert "3 of 5" in _text(client.get("/plans/dashboard/"))  # not recomputed yet: the stored figures
    indicators_recompute_all(today=TODAY)

    text = _text(client.get("/plans/dashboard/"))
    assert "4 of 6" in text and "3 of 5" not in text


def test_a_changed_target_shows_on_the_next_request_before_any_recompute(client_for, cast, plan_data):
    client = client_for(cast.city_leader)
    assert "Target: at least 70% by 31/12/2020" in _text(client.get("/plans/dashboard/"))
    Target.objects.filter(pk=plan_data.board.pk).update(threshold_percent=75)

    assert "Target: at least 75% by 31/12/2020" in _text(client.get("/plans/dashboard/"))


def test_each_language_has_its_own_rendering(client_for, cast, settings, plan_data):
    client = client_for(cast.city_leader)
    assert "needs 1 more board" in _text(client.get("/plans/dashboard/"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    with translation.override("vi"):
        assert "needs 1 more board" not in _text(client.get("/plans/dashboard/"))


def test_a_drill_down_and_another_map_are_not_served_the_citys_rendering(client_for, cast, tree, plan_data):
    client = client_for(cast.city_leader)
    assert "3 of 5" in _text(client.get("/plans/dashboard/"))
    district = _text(client.get(f"/plans/dashboard/{tree.ba_dinh.pk}/"))
    assert "2 of 4" in district and "3 of 5" not in district
    todays_map = client.get("/plans/dashboard/", {"map": "today"}).content.decode()
    assert 'name="map" value="today"' in todays_map


def test_the_dashboard_takes_the_same_queries_rendered_or_cached_whatever_the_number_of_children(
    client_for, cast, tree, plan_data, django_assert_num_queries, settings
):
    client = client_for(cast.city_leader)
    RecomputeRun.objects.create(status=RunStatus.DONE)  # a portal in use has run at least once
    cache.clear()
    with django_assert_num_queries(QUERIES_RENDERING):
        client.get("/plans/dashboard/")
    with django_assert_num_queries(QUERIES_FROM_THE_CACHE):
        client.get("/plans/dashboard/")
    settings.PAGE_CACHE = False  # the page's own cached fragments, as after a write elsewhere
    with django_assert_num_queries(QUERIES_FROM_THE_FRAGMENTS):
        client.get("/plans/dashboard/")
    settings.PAGE_CACHE = True

    for n in range(12):
        OrganizationFactory(branch=make_branch(f"Quận mới {n}", BranchLevel.DISTRICT, tree.city))
    indicators_recompute_all(today=TODAY)
    with django_assert_num_queries(QUERIES_RENDERING):
        response = client.get("/plans/dashboard/")
    assert len(response.context["dashboard"].targets[0].children) == 14
    with django_assert_num_queries(QUERIES_FROM_THE_CACHE):
        client.get("/plans/dashboard/")


def test_the_dashboard_answers_when_the_cache_cannot_be_reached(client_for, cast, plan_data, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("the cache is down")

    monkeypatch.setattr("plans.views.cache.get", down)
    monkeypatch.setattr("plans.views.cache.set", down)
    response = client_for(cast.city_leader).get("/plans/dashboard/")
    assert response.status_code == 200
    assert "3 of 5" in _text(response)
