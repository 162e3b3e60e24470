"""The fixed cast of users and the branch tree they belong to.

Thành phố Hà Nội (city)            ← city_leader, manager (city)
├── Quận Ba Đình (district)        ← district_leader
│   ├── Phường Phúc Xá (commune)   ← commune_clerk
│   └── Phường Trúc Bạch (commune)
└── Quận Hoàn Kiếm (district)      ← sibling_clerk (outsider to Ba Đình)
    └── Phường Hàng Bạc (commune)
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from associations.models import BranchLevel, DivisionType, StaffRole
from tests.factories import PASSWORD, StaffProfileFactory, UserFactory, make_branch


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tree(db):
    city = make_branch("Thành phố Hà Nội", BranchLevel.CITY, code="01", division_type=DivisionType.CITY)
    ba_dinh = make_branch(
        "Quận Ba Đình", BranchLevel.DISTRICT, city, code="001", division_type=DivisionType.URBAN_DISTRICT
    )
    phuc_xa = make_branch("Phường Phúc Xá", BranchLevel.COMMUNE, ba_dinh, code="00001", division_type=DivisionType.WARD)
    truc_bach = make_branch(
        "Phường Trúc Bạch", BranchLevel.COMMUNE, ba_dinh, code="00004", division_type=DivisionType.WARD
    )
    hoan_kiem = make_branch(
        "Quận Hoàn Kiếm", BranchLevel.DISTRICT, city, code="002", division_type=DivisionType.URBAN_DISTRICT
    )
    hang_bac = make_branch(
        "Phường Hàng Bạc", BranchLevel.COMMUNE, hoan_kiem, code="00061", division_type=DivisionType.WARD
    )
    for branch in (city, ba_dinh, phuc_xa, truc_bach, hoan_kiem, hang_bac):
        branch.refresh_from_db()
    return SimpleNamespace(
        city=city, ba_dinh=ba_dinh, phuc_xa=phuc_xa, truc_bach=truc_bach, hoan_kiem=hoan_kiem, hang_bac=hang_bac
    )


def _staff(username, branch, role, full_name):
    first, _, last = full_name.partition(" ")
    user = UserFactory(username=username, first_name=last, last_name=first)
    StaffProfileFactory(user=user, branch=branch, role=role)
    return user


@pytest.fixture
def cast(tree):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.vn", PASSWORD)
    return SimpleNamespace(
        commune_clerk=_staff("clerk_phucxa", tree.phuc_xa, StaffRole.CLERK, "Trần Thị Lan"),
        district_leader=_staff("leader_badinh", tree.ba_dinh, StaffRole.LEADER, "Lê Văn Hùng"),
        city_leader=_staff("leader_hanoi", tree.city, StaffRole.LEADER, "Phạm Minh Đức"),
        manager=_staff("manager_badinh", tree.ba_dinh, StaffRole.MANAGER, "Vũ Thu Hà"),
        sibling_clerk=_staff("clerk_hoankiem", tree.hoan_kiem, StaffRole.CLERK, "Đỗ Văn Nam"),
        admin=admin,
        password=PASSWORD,
    )


@pytest.fixture
def client_for(client):
    """client_for(user) → the test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def _require_services():
    import os

    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL"):
        pytest.skip("needs PostgreSQL and Redis: run the suite with `make test`")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process on the test Redis, using the test database."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    _require_services()
    settings_dict = connection.settings_dict
    database_url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**settings_dict)
    env = dict(os.environ, DATABASE_URL=database_url)
    root = Path(__file__).resolve().parents[1]
    # The worker's log goes to a file: an unread pipe fills up after 64 KB of warnings and
    # then blocks the worker in the middle of the suite.
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "khuyenhoc",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--hostname=test-worker@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    from khuyenhoc.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("Celery worker exited: " + log_path.read_text()[-5000:])
        if app.control.ping(timeout=0.5):
            break
    else:
        process.kill()
        raise RuntimeError("Celery worker did not answer a ping within 60 s")
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def eager(settings):
    """Run Celery tasks in-process, as the embedded mode does.

    The Celery app reads its configuration once, so Django's setting alone would not switch
    it back and forth between tests: the app's own flags are set and restored here.
    """
    from khuyenhoc.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
