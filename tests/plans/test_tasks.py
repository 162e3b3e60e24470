"""The recompute: an idempotent task, debounced after data changes, started by a manager or
the nightly schedule, and run by a real Celery worker."""

import datetime
import os
import time
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from associations.models import Member, MemberCategory
from associations.services import member_create
from khuyenhoc.signals import registry_changed
from plans.models import IndicatorValue, RecomputeRun, RunStatus
from plans.services import RECOMPUTE_LOCK_KEY, indicators_recompute_all, plan_99_load, recompute_schedule
from plans.tasks import indicators_recompute
from tests.factories import HeadcountFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_lock():
    cache.delete(RECOMPUTE_LOCK_KEY)
    yield
    cache.delete(RECOMPUTE_LOCK_KEY)


def _rows():
    return sorted(
        IndicatorValue.objects.values_list("id", "target_id", "branch_id", "as_of", "numerator", "denominator")
    )


def test_running_the_task_twice_leaves_the_same_rows(plan_data):
    indicators_recompute.apply()
    first = _rows()
    indicators_recompute.apply()
    assert _rows() == first
    assert first  # the task stored values: today, a year ago and each plan year's end, for every branch


def test_the_task_stores_today_a_year_ago_and_each_year_end_of_the_plan_and_forgets_older_days(plan_data):
    indicators_recompute_all(today=datetime.date(2021, 3, 1))
    days = set(IndicatorValue.objects.filter(target=plan_data.board).values_list("as_of", flat=True))
    year_ends = {datetime.date(y, 12, 31) for y in (2017, 2018, 2019, 2020)}
    assert days == year_ends | {datetime.date(2021, 3, 1), datetime.date(2020, 3, 1)}


def test_the_task_has_a_time_limit_retries_with_backoff_and_runs_nightly():
    assert indicators_recompute.time_limit and indicators_recompute.soft_time_limit
    assert indicators_recompute.retry_backoff and indicators_recompute.max_retries
    assert indicators_recompute.autoretry_for
    nightly = [
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "plans.tasks.indicators_recompute"
    ]
    assert len(nightly) == 1


def test_many_changes_in_one_transaction_schedule_one_recompute(tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for _ in range(1000):
            registry_changed.send(sender=Member, branch_id=tree.phuc_xa.pk)
    assert len(callbacks) == 1


def test_changes_in_many_transactions_fold_into_one_run_until_it_starts(tree):
    with mock.patch("plans.tasks.indicators_recompute.apply_async") as enqueue:
        first = recompute_schedule()
        for _ in range(50):
            assert recompute_schedule() is None
    assert enqueue.call_count == 1
    assert enqueue.call_args.kwargs["kwargs"] == {"run_id": first.pk}
    assert enqueue.call_args.kwargs["countdown"] >= 1
    assert RecomputeRun.objects.count() == 1


def test_a_change_during_a_run_schedules_the_next_one(plan_data):
    with mock.patch("plans.tasks.indicators_recompute.apply_async") as enqueue:
        run = recompute_schedule()
        indicators_recompute.apply(kwargs={"run_id": run.pk})  # the run releases the lock as it starts
        assert recompute_schedule() is not None
    assert enqueue.call_count == 2


def test_when_the_broker_is_down_a_save_still_succeeds_and_the_next_run_picks_the_change_up(plan_data, tree):
    with mock.patch("plans.tasks.indicators_recompute.apply_async", side_effect=OSError("connection refused")):
        pending = recompute_schedule()
    assert RecomputeRun.objects.get(pk=pending.pk).status == RunStatus.PENDING
    indicators_recompute.apply()  # the nightly run
    assert RecomputeRun.objects.get(pk=pending.pk).status == RunStatus.DONE


def test_when_the_cache_is_down_a_pending_run_is_recorded_once(tree):
    with mock.patch("plans.services.cache.add", side_effect=ConnectionError("redis down")):
        assert recompute_schedule() is not None
        assert recompute_schedule() is None
    assert RecomputeRun.objects.filter(status=RunStatus.PENDING).count() == 1


def test_a_manager_presses_recompute_now_and_watches_it_finish(
    client_for, cast, plan_data, django_capture_on_commit_callbacks, eager
):
    # The worker's part runs in-process here; see the real worker test below.
    client = client_for(cast.manager)
    IndicatorValue.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/plans/recompute/")
    assert response.status_code == 302
    run = RecomputeRun.objects.get(trigger=RecomputeRun.Trigger.MANUAL)
    assert run.requested_by == cast.manager and run.status == RunStatus.DONE and run.rows_written > 0
    page = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert 'data-status="done"' in page.content.decode()
    assert "hx-trigger" not in page.content.decode()  # finished: the page stops polling
    assert IndicatorValue.objects.exists()


def test_a_waiting_run_keeps_polling(client_for, cast):
    run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.MANUAL, requested_by=cast.manager)
    page = client_for(cast.manager).get(f"/plans/recompute/{run.pk}/", HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in page.content.decode()


def test_leaders_and_clerks_may_not_recompute_or_watch(client_for, cast):
    run = RecomputeRun.objects.create()
    for user in (cast.city_leader, cast.commune_clerk):
        client = client_for(user)
        assert client.post("/plans/recompute/").status_code == 403
        assert client.get(f"/plans/recompute/{run.pk}/").status_code == 403


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_computes_the_values_after_an_import(cast, tree, celery_worker_process, settings):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: run with `make test`")
    settings.PLANS_RECOMPUTE_DEBOUNCE_SECONDS = 1
    cache.delete(RECOMPUTE_LOCK_KEY)
    plan = plan_99_load()
    membership = plan.targets.get(indicator="cadre_membership")
    organization = OrganizationFactory(branch=tree.phuc_xa)
    HeadcountFactory(organization=organization, year=timezone.localdate().year, civil_servants=10)
    # An import writes its rows in one transaction and announces each: one recompute follows.
    with transaction.atomic():
        for n in range(6):
            member_create(
                actor=cast.commune_clerk,
                data={
                    "full_name": f"Nguyễn Văn {n}",
                    "category": MemberCategory.CIVIL_SERVANT,
                    "organization": organization,
                    "branch": tree.phuc_xa,
                    "joined_on": datetime.date(2020, 1, 1),
                },
            )
    today = timezone.localdate()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if RecomputeRun.objects.filter(trigger=RecomputeRun.Trigger.CHANGE, status=RunStatus.DONE).exists():
            break
        time.sleep(0.5)
    else:
        pytest.fail("the worker did not finish a recompute within 60 s")
    assert RecomputeRun.objects.filter(trigger=RecomputeRun.Trigger.CHANGE).count() == 1
    value = IndicatorValue.objects.get(target=membership, branch=tree.city, as_of=today)
    assert (value.numerator, value.denominator) == (6, 10)
