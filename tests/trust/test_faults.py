"""Faults, each with the real service stopped and started again: Redis down while clerks
save, a Celery worker killed in the middle of a recompute, PostgreSQL restarted under a
running web server. Nothing saved is lost and nothing stored is left half-written.

These tests share the throwaway PostgreSQL and Redis of scripts/with-services.sh with the
rest of the suite: every stop is undone in a `finally`, waiting until the service answers."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from associations.models import Member, MemberCategory
from plans.models import IndicatorValue, RecomputeRun, RunStatus, Target
from plans.services import RECOMPUTE_LOCK_KEY, indicators_recompute_all, plan_99_load
from plans.tasks import indicators_recompute, indicators_recompute_pending
from tests.factories import HeadcountFactory, MemberFactory, OrganizationFactory

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("PG_BINDIR", "PG_DATA", "PG_PORT", "REDIS_PORT", "REDIS_SERVER", "DATABASE_URL", "REDIS_URL")

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _services():
    missing = [name for name in SERVICES if not os.environ.get(name)]
    if missing:
        pytest.skip("needs the services of scripts/with-services.sh (make test): " + ", ".join(missing))


# --- Stopping and starting the real services -------------------------------------------------
def _work_dir() -> Path:
    return Path(os.environ["PG_DATA"]).parent


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _redis_answers() -> bool:
    result = subprocess.run(
        ["redis-cli", "-p", os.environ["REDIS_PORT"], "ping"], capture_output=True, text=True, timeout=5
    )
    return result.stdout.strip() == "PONG"


def redis_stop() -> None:
    subprocess.run(["redis-cli", "-p", os.environ["REDIS_PORT"], "shutdown", "nosave"], capture_output=True, timeout=10)
    deadline = time.monotonic() + 10
    while _redis_answers():
        assert time.monotonic() < deadline, "Redis did not stop"
        time.sleep(0.1)


def redis_start() -> None:
    if _redis_answers():
        return
    work = _work_dir()
    subprocess.run(
        [
            os.environ["REDIS_SERVER"],
            "--port",
            os.environ["REDIS_PORT"],
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(work / "redis.pid"),
            "--logfile",
            str(work / "redis.log"),
            "--dir",
            str(work),
        ],
        check=True,
        timeout=10,
    )
    deadline = time.monotonic() + 15
    while not _redis_answers():
        assert time.monotonic() < deadline, "Redis did not start again"
        time.sleep(0.1)


def postgres_restart() -> None:
    """A fast restart (every connection is cut), with the options the cluster was started with."""
    pg_ctl = str(Path(os.environ["PG_BINDIR"]) / "pg_ctl")
    command = [pg_ctl, "-D", os.environ["PG_DATA"], "-l", str(_work_dir() / "pg.log"), "-w", "-t", "60", "-m", "fast"]
    subprocess.run(
        _as_postgres([*command, "restart"]),
        check=True,
        timeout=90,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def postgres_ensure_running() -> None:
    pg_ctl = str(Path(os.environ["PG_BINDIR"]) / "pg_ctl")
    status = subprocess.run(_as_postgres([pg_ctl, "-D", os.environ["PG_DATA"], "status"]), capture_output=True)
    if status.returncode != 0:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", os.environ["PG_DATA"], "-l", str(_work_dir() / "pg.log"), "-w", "start"]),
            check=True,
            timeout=90,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def test_database_url() -> str:
    return "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict)


test_database_url.__test__ = False  # a helper, not a test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _worker_answers(destination: list[str] | None = None):
    """A ping over a fresh broker connection: the pooled ones die with a Redis restart."""
    from khuyenhoc.celery import app

    with contextlib.suppress(Exception), app.connection_for_write() as fresh:
        return app.control.ping(destination=destination, timeout=1.5, connection=fresh)
    return False


def _plan_with_values(tree):
    organization = OrganizationFactory(branch=tree.phuc_xa)
    HeadcountFactory(organization=organization, year=timezone.localdate().year - 1, civil_servants=40)
    for _ in range(3):
        MemberFactory(branch=tree.phuc_xa, organization=organization, category=MemberCategory.CIVIL_SERVANT)
    plan = plan_99_load()
    indicators_recompute_all()
    return plan, organization


def _membership_today(plan, branch) -> tuple[int, int]:
    value = IndicatorValue.objects.get(
        target__plan=plan, target__indicator="cadre_membership", branch=branch, as_of=timezone.localdate()
    )
    return value.numerator, value.denominator


# --- Redis down ----------------------------------------------------------------------------
def test_with_redis_stopped_clerks_keep_saving_and_the_recompute_runs_once_redis_is_back(
    tree, cast, celery_worker_process, client_for
):
    cache.delete(RECOMPUTE_LOCK_KEY)
    plan, organization = _plan_with_values(tree)
    assert _membership_today(plan, tree.phuc_xa) == (3, 40)
    client = client_for(cast.commune_clerk)

    redis_stop()
    try:
        saved = []
        for name in ["Nguyễn Thị Hoa", "Phạm Văn Bình"]:
            started = time.monotonic()
            response = client.post(
                "/registry/members/add/",
                {
                    "full_name": name,
                    "gender": "female",
                    "category": MemberCategory.CIVIL_SERVANT,
                    "organization": organization.pk,
                    "branch": tree.phuc_xa.pk,
                    "joined_on": timezone.localdate().strftime("%d/%m/%Y"),
                },
            )
            assert response.status_code == 302, response.content.decode()[:2000]
            assert time.monotonic() - started < 10  # Redis's short timeouts, not a hang
            saved.append(name)
        assert Member.objects.filter(full_name__in=saved).count() == 2
        # The list and the member's page still open: nothing on them needs Redis.
        assert client.get("/registry/members/").status_code == 200
        pending = RecomputeRun.objects.filter(status=RunStatus.PENDING)
        assert pending.count() == 1  # one pending run for both saves, recorded in the database
        assert _membership_today(plan, tree.phuc_xa) == (3, 40)  # not computed yet
    finally:
        redis_start()

    # A worker holding delayed (countdown) messages when the broker vanishes dies in kombu
    # 5.7's restore_unacked ("Unrecoverable error"); in production the container's restart
    # policy starts it again. A second worker stands in for that here whether or not the
    # first survived. Nothing is lost either way: the pending run is in the database, and
    # Redis hands a delayed message back after its visibility timeout.
    replacement = _replacement_worker()
    try:
        # An idle worker reconnects by itself once Redis is back; Celery retries the broker
        # at growing intervals (2 s, 4 s, …): allow for a loaded machine.
        _wait_for(_worker_answers, timeout=90, what="a Celery worker to answer after Redis is back")
        # The run has waited past its debounce (as it would have after a few minutes' outage);
        # the five-minutely sweep of the beat schedule picks it up through the real worker.
        pending.update(requested_at=timezone.now() - datetime.timedelta(hours=1))
        run_id = pending.get().pk
        indicators_recompute_pending.apply_async().get(timeout=60)
        assert RecomputeRun.objects.get(pk=run_id).status == RunStatus.DONE
        assert _membership_today(plan, tree.phuc_xa) == (5, 40)
    finally:
        replacement.terminate()
        replacement.wait(timeout=15)


def _replacement_worker() -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=test_database_url())
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "khuyenhoc",
            "worker",
            "--pool=solo",
            "--hostname=replacement-worker@%h",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_the_pending_sweep_is_scheduled_every_few_minutes_and_does_nothing_when_nothing_waits(tree, settings):
    sweeps = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "plans.tasks.indicators_recompute_pending"
    ]
    assert len(sweeps) == 1
    assert sweeps[0]["schedule"].minute == {0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55}
    fresh = RecomputeRun.objects.create()  # within its debounce: its own queued task runs it
    assert indicators_recompute_pending.apply().get() == 0
    assert RecomputeRun.objects.get(pk=fresh.pk).status == RunStatus.PENDING
    assert not RecomputeRun.objects.exclude(pk=fresh.pk).exists()


# --- A worker killed in the middle of a recompute ---------------------------------------------
def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children.extend(int(child) for child in text)
    return children


def _one_run_per_target() -> dict[int, set]:
    """computed_at of every stored value, per target: one value each when no target is half-written."""
    stamps: dict[int, set] = {}
    for target_id, computed_at in IndicatorValue.objects.values_list("target_id", "computed_at"):
        stamps.setdefault(target_id, set()).add(computed_at)
    return stamps


@pytest.fixture
def prefork_worker():
    """A Celery worker with one child process on a queue of its own (so the session worker
    takes none of its tasks); the child is what an out-of-memory kill would hit."""
    hostname = f"fault-worker-{os.getpid()}@localhost"
    env = dict(os.environ, DATABASE_URL=test_database_url())
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "khuyenhoc",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--queues=trust-faults",
            f"--hostname={hostname}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    try:
        _wait_for(
            lambda: process.poll() is None and _worker_answers([hostname]),
            timeout=60,
            what="the prefork worker",
        )
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_worker_killed_mid_recompute_leaves_whole_targets_and_the_redelivered_task_completes(
    tree, prefork_worker, django_db_blocker
):
    plan, organization = _plan_with_values(tree)
    targets = list(Target.objects.filter(plan__is_active=True))
    assert len(targets) == 2
    first, second = targets
    before = _one_run_per_target()
    assert all(len(stamps) == 1 for stamps in before.values())
    old_stamp = next(iter(before[second.pk]))
    rows_per_target = {t.pk: IndicatorValue.objects.filter(target=t).count() for t in targets}
    for _ in range(2):  # a change the recompute must pick up
        MemberFactory(branch=tree.phuc_xa, organization=organization, category=MemberCategory.CIVIL_SERVANT)

    # Another transaction holds the second target's rows, so the run stops in the middle:
    # the first target written and committed, the second target's upsert waiting.
    blocker = psycopg2.connect(test_database_url())
    try:
        with blocker.cursor() as cursor:
            cursor.execute("SELECT id FROM plans_indicatorvalue WHERE target_id = %s FOR UPDATE", [second.pk])
        run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.MANUAL)
        indicators_recompute.apply_async(kwargs={"run_id": run.pk}, queue="trust-faults")

        def upsert_waiting():
            with psycopg2.connect(test_database_url()) as probe, probe.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'INSERT INTO \"plans_indicatorvalue\"%%'"
                )
                waiting = cursor.fetchone()[0]
            probe.close()
            return waiting

        _wait_for(upsert_waiting, timeout=30, what="the recompute to reach the second target")
        middle = _one_run_per_target()
        assert middle[first.pk] != before[first.pk]  # the first target is already the new run's
        assert middle[second.pk] == {old_stamp}
        assert RecomputeRun.objects.get(pk=run.pk).status == RunStatus.RUNNING

        children = _children(prefork_worker.pid)
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
        time.sleep(0.5)
    finally:
        blocker.rollback()
        blocker.close()

    # Whatever moment we look at, each target's values come from one run only.
    for _ in range(5):
        assert all(len(stamps) == 1 for stamps in _one_run_per_target().values())
        time.sleep(0.1)

    # acks_late + reject_on_worker_lost: the task goes back to the queue and runs again.
    _wait_for(
        lambda: RecomputeRun.objects.get(pk=run.pk).status == RunStatus.DONE,
        timeout=45,
        what="the redelivered recompute to finish",
    )
    assert prefork_worker.poll() is None  # the worker itself lived on
    after = _one_run_per_target()
    assert all(len(stamps) == 1 for stamps in after.values())
    assert after[first.pk] == after[second.pk] != {old_stamp}  # both from the completed run
    assert {t.pk: IndicatorValue.objects.filter(target=t).count() for t in targets} == rows_per_target
    assert _membership_today(plan, tree.phuc_xa) == (5, 40)


# --- PostgreSQL restarted under a running web server ----------------------------------------
@pytest.fixture
def web_server():
    """gunicorn serving the portal on the test database, with persistent connections."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=test_database_url(), DB_CONN_MAX_AGE="600", DEBUG="true")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "khuyenhoc.wsgi",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            "--timeout=60",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def answers():
        assert process.poll() is None, process.stderr.read()
        with contextlib.suppress(OSError):
            return urllib.request.urlopen(base + "/accounts/login/", timeout=2).status == 200  # noqa: S310
        return False

    try:
        _wait_for(answers, timeout=60, what="gunicorn")
        yield process, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_postgresql_restart_during_use_is_survived_without_restarting_the_server(tree, cast, web_server):
    process, base = web_server
    _plan, organization = _plan_with_values(tree)
    browser = Client()
    browser.force_login(cast.commune_clerk)
    cookies = {"sessionid": browser.cookies["sessionid"].value}

    def send(path, data=None):
        request = urllib.request.Request(  # noqa: S310 (our own server on loopback)
            base + path,
            data=urllib.parse.urlencode(data).encode() if data is not None else None,
            headers={"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                cookies[name] = rest.split(";", 1)[0]
            return response.status, response.read().decode()

    def get(path):
        return send(path)

    def add_member(name):
        _status, page = get("/registry/members/add/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = {
            "csrfmiddlewaretoken": token,
            "full_name": name,
            "gender": "male",
            "category": MemberCategory.WORKER,
            "organization": organization.pk,
            "branch": tree.phuc_xa.pk,
            "joined_on": timezone.localdate().strftime("%d/%m/%Y"),
        }
        status, page = send("/registry/members/add/", data)
        assert name in page
        return status

    assert get("/registry/members/")[0] == 200
    assert add_member("Trước Khi Khởi Động") == 200  # redirected to the new member's page
    worker_pids = _children(process.pid)

    try:
        postgres_restart()
    finally:
        postgres_ensure_running()
        connections.close_all()  # this test process's own connections were cut too

    # The next requests of the same server process: its kept connection fails the health
    # check, is replaced, and the pages answer as before.
    status, page = get("/registry/members/")
    assert status == 200 and "Trước Khi Khởi Động" in page
    assert add_member("Sau Khi Khởi Động") == 200
    assert _children(process.pid) == worker_pids  # same gunicorn worker: no server restart
    assert Member.objects.filter(full_name__in=["Trước Khi Khởi Động", "Sau Khi Khởi Động"]).count() == 2
