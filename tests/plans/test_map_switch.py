"""The dashboard's date picker (issue 11, item 5): any past date on either map, computed once
in the background when it is not stored, then shown like the nightly run's dates."""

import datetime
import os
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from associations.models import BranchLevel
from plans import on_demand
from plans.models import IndicatorValue, OnDemandDate, OnMap
from plans.on_demand import picked_date_compute, picked_date_request
from plans.services import indicators_recompute_all, plan_99_load
from tests.factories import make_branch, org_with_board
from tests.plans.test_history import apply_2025_round, city_2017  # noqa: F401 — the fixture

D = datetime.date
PICKED = D(2019, 3, 31)  # no nightly run stores it: not a year's end, nor today, nor a year ago


@pytest.fixture
def switched(city_2017):  # noqa: F811
    wards = apply_2025_round(city_2017)
    indicators_recompute_all()
    cache.clear()
    return SimpleNamespace(city=city_2017, tree=city_2017.tree, wards=wards, plan=city_2017.board.plan)


def _children(response, indicator="board_coverage"):
    item = next(t for t in response.context["dashboard"].targets if t.target.indicator == indicator)
    rows = {row.branch.name: (row.now.numerator, row.now.denominator) for row in item.children}
    split = (item.split.now.numerator, item.split.now.denominator) if item.split else None
    return item.shown_on, rows, split


def _stored(plan, day):
    return IndicatorValue.objects.filter(target__plan=plan, as_of=day)


def test_a_picked_date_not_stored_is_computed_by_the_task_then_shown_on_todays_map(
    switched, cast, client_for, django_capture_on_commit_callbacks
):
    client = client_for(cast.admin)
    city = switched.tree.city
    dashboard = reverse("plans:dashboard_branch", args=[city.pk])
    assert not _stored(switched.plan, PICKED).exists()

    before = client.get(dashboard, {"as_of": PICKED.isoformat(), "map": "today"})
    assert "31/03/2019" in before.content.decode()
    assert before.context["picked"].unrequested

    with django_capture_on_commit_callbacks(execute=False) as queued:
        answer = client.post(
            reverse("plans:picked_date", args=[city.pk]), {"as_of": PICKED.isoformat(), "map": "today"}
        )
    assert answer.status_code == 302
    assert answer["Location"] == f"{dashboard}?map=today&as_of=2019-03-31"
    # Queued, not computed yet: the page says so and polls.
    waiting = client.get(answer["Location"])
    page = waiting.content.decode()
    assert "Đang tính số liệu cho ngày 31/03/2019…" in page or "Computing the figures for 31/03/2019…" in page
    status_url = waiting.context["picked_status_url"]
    assert f'hx-get="{status_url.replace("&", "&amp;")}"' in page
    polled = client.get(status_url)
    assert "HX-Refresh" not in polled and 'hx-trigger="every 2s"' in polled.content.decode()

    with mock.patch.object(on_demand.tasks.picked_date_compute, "delay") as delay:
        for callback in queued:
            callback()
    delay.assert_called_once_with(plan_id=switched.plan.pk, as_of="2019-03-31")
    picked_date_compute(plan_id=switched.plan.pk, as_of=PICKED)  # what the task runs

    assert client.get(status_url)["HX-Refresh"] == "true"
    shown = client.get(answer["Location"])
    day, rows, split = _children(shown)
    # Hand count on 31/03/2019, on today's map: Phường Ba Đình has Phúc Xá's town hall and
    # school (both with a board); Phường Hoàn Kiếm Hàng Bạc's town hall (board) and the clinic
    # that went there from Trúc Bạch (no board); the works, closed on 30/06/2019, stayed on
    # Trúc Bạch, which was split: the city's line "From split units".
    assert day == PICKED
    assert rows == {"Phường Ba Đình": (2, 2), "Phường Hoàn Kiếm": (1, 2)}
    assert split == (1, 1)
    _day, rows, split = _children(shown, "cadre_membership")
    assert rows == {"Phường Ba Đình": (3, 7), "Phường Hoàn Kiếm": (2, 5)}
    assert split == (1, 1)
    # On the map in force that day the same date shows the districts of the time.
    _day, rows, split = _children(client.get(dashboard, {"as_of": PICKED.isoformat()}))
    assert rows == {"Quận Ba Đình": (3, 4), "Quận Hoàn Kiếm": (1, 1)}
    assert split is None


def test_a_stored_date_shows_at_once_and_queues_nothing(switched, cast, client_for, django_capture_on_commit_callbacks):
    client = client_for(cast.admin)
    city = switched.tree.city
    stored = D(2018, 12, 31)  # a year's end of the plan: the nightly run stores it
    with django_capture_on_commit_callbacks() as queued:
        answer = client.post(reverse("plans:picked_date", args=[city.pk]), {"as_of": "31/12/2018", "map": "today"})
    assert queued == []
    assert not OnDemandDate.objects.exists()
    shown = client.get(answer["Location"])
    assert shown.context["picked"].ready
    assert 'data-testid="picked-status"' not in shown.content.decode()
    assert _children(shown)[0] == stored


def test_a_date_outside_the_plan_is_refused_with_a_clear_message(
    switched, cast, client_for, django_capture_on_commit_callbacks
):
    client = client_for(cast.admin)
    city = switched.tree.city
    start = switched.plan.starts_on.strftime("%d/%m/%Y")
    for day in (
        switched.plan.starts_on - datetime.timedelta(days=1),
        timezone.localdate() + datetime.timedelta(days=1),
    ):
        with django_capture_on_commit_callbacks() as queued:
            answer = client.post(reverse("plans:picked_date", args=[city.pk]), {"as_of": day.isoformat()})
        assert queued == []
        page = client.get(answer["Location"])
        error = page.context["picked"].error
        assert start in error and timezone.localdate().strftime("%d/%m/%Y") in error
        assert escape(error) in page.content.decode()
    assert not OnDemandDate.objects.exists()


def test_asking_twice_queues_one_task_and_computing_twice_writes_the_same_rows(switched, settings):
    cache.clear()
    with mock.patch.object(on_demand.tasks.picked_date_compute, "delay") as delay:
        for _ in range(3):
            on_demand._enqueue(picked_date_request(plan=switched.plan, as_of=PICKED))
    assert delay.call_count == 1
    assert OnDemandDate.objects.filter(plan=switched.plan, as_of=PICKED).count() == 1
    picked_date_compute(plan_id=switched.plan.pk, as_of=PICKED)
    first = sorted(
        _stored(switched.plan, PICKED).values_list("target_id", "branch_id", "on_map", "numerator", "denominator")
    )
    picked_date_compute(plan_id=switched.plan.pk, as_of=PICKED)
    again = sorted(
        _stored(switched.plan, PICKED).values_list("target_id", "branch_id", "on_map", "numerator", "denominator")
    )
    assert again == first
    assert {row[2] for row in first} == {OnMap.IN_FORCE, OnMap.TODAY, OnMap.SPLIT}
    assert OnDemandDate.objects.get(plan=switched.plan, as_of=PICKED).status == OnDemandDate.Status.DONE


def test_the_nightly_run_keeps_a_picked_date_and_forgets_it_once_nobody_asks_for_it(switched):
    picked_date_request(plan=switched.plan, as_of=PICKED)
    picked_date_compute(plan_id=switched.plan.pk, as_of=PICKED)
    rows = _stored(switched.plan, PICKED).count()
    indicators_recompute_all()
    assert _stored(switched.plan, PICKED).count() == rows
    OnDemandDate.objects.update(last_requested_at=timezone.now() - datetime.timedelta(days=31))
    indicators_recompute_all()
    assert not _stored(switched.plan, PICKED).exists()


def test_computing_a_picked_date_runs_the_same_queries_whatever_the_trees_size(switched):
    def count(day):
        picked_date_request(plan=switched.plan, as_of=day)
        with CaptureQueriesContext(connection) as queries:
            picked_date_compute(plan_id=switched.plan.pk, as_of=day)
        return len(queries)

    small = count(PICKED)
    for n in range(5):
        ward = make_branch(f"Phường Mới {n}", BranchLevel.COMMUNE, switched.tree.city, founded_on=D(2025, 7, 1))
        org_with_board(ward, name=f"UBND Phường Mới {n}")
        old = make_branch(f"Xã Cũ {n}", BranchLevel.COMMUNE, switched.tree.city, founded_on=D(2010, 1, 1))
        org_with_board(old, name=f"UBND Xã Cũ {n}")
    assert count(D(2019, 4, 30)) == small


def test_a_commune_clerk_asks_and_sees_only_her_communes_figures(switched, cast, client_for):
    clerk = client_for(cast.commune_clerk)  # Phường Phúc Xá: dissolved, she reads its history
    outside = switched.tree.hang_bac
    assert clerk.post(reverse("plans:picked_date", args=[outside.pk]), {"as_of": "2019-03-31"}).status_code == 404
    assert clerk.get(reverse("plans:picked_date_status", args=[outside.pk]), {"as_of": "2019-03-31"}).status_code == 404
    assert not OnDemandDate.objects.exists()
    own = switched.tree.phuc_xa
    answer = clerk.post(reverse("plans:picked_date", args=[own.pk]), {"as_of": "2019-03-31"})
    assert answer.status_code == 302
    picked_date_compute(plan_id=switched.plan.pk, as_of=PICKED)
    page = clerk.get(answer["Location"])
    assert page.context["branch"].pk == own.pk
    day, rows, _split = _children(page)
    # Phúc Xá on 31/03/2019 on the map of that day: its town hall, and the chapter with the school.
    assert day == PICKED
    assert rows["Chi hội Phúc Xá"] == (1, 1)
    assert not any("Hàng Bạc" in name or "Hoàn Kiếm" in name for name in rows)
    assert "Hàng Bạc" not in page.content.decode()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_computes_a_picked_date(cast, tree, celery_worker_process):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: run with `make test`")
    plan = plan_99_load()
    org_with_board(tree.phuc_xa, name="UBND Phúc Xá")
    cache.clear()
    row = picked_date_request(plan=plan, as_of=PICKED)  # autocommit: the task is queued at once
    assert row is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if row.status == OnDemandDate.Status.DONE:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the worker did not compute the picked date within 60 s ({row.status} {row.error})")
    board = plan.targets.get(indicator="board_coverage")
    value = IndicatorValue.objects.get(target=board, branch=tree.phuc_xa, as_of=PICKED, on_map=OnMap.IN_FORCE)
    assert (value.numerator, value.denominator) == (1, 1)


def test_a_burst_of_picked_dates_is_capped_and_the_next_pick_says_why_and_writes_nothing(
    switched, cast, client_for, settings, django_capture_on_commit_callbacks
):
    settings.PLANS_PICKED_DATES_AT_ONCE = 2
    client = client_for(cast.admin)
    city = switched.tree.city
    for day in ("2019-03-31", "2019-04-30"):
        with django_capture_on_commit_callbacks():
            client.post(reverse("plans:picked_date", args=[city.pk]), {"as_of": day})
    assert OnDemandDate.objects.filter(status=OnDemandDate.Status.PENDING).count() == 2
    with django_capture_on_commit_callbacks() as queued:
        answer = client.post(reverse("plans:picked_date", args=[city.pk]), {"as_of": "2019-05-31"}, follow=True)
    assert queued == []
    assert not OnDemandDate.objects.filter(as_of=D(2019, 5, 31)).exists()
    page = answer.content.decode()
    assert "2 other dates are being computed" in page or "2 ngày khác đang được tính" in page
    assert answer.context["picked"].unrequested  # the page still offers to compute it
    # Asking again for a date already waiting is not refused: it is the same computation.
    with django_capture_on_commit_callbacks():
        again = client.post(reverse("plans:picked_date", args=[city.pk]), {"as_of": "2019-03-31"}, follow=True)
    assert "other dates are being computed" not in again.content.decode()
    # Once one is done, a new date is taken.
    OnDemandDate.objects.filter(as_of=D(2019, 3, 31)).update(status=OnDemandDate.Status.DONE)
    with django_capture_on_commit_callbacks():
        client.post(reverse("plans:picked_date", args=[city.pk]), {"as_of": "2019-05-31"})
    assert OnDemandDate.objects.filter(as_of=D(2019, 5, 31), status=OnDemandDate.Status.PENDING).exists()
