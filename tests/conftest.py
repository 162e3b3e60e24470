"""The fixed cast of users and the branch tree they belong to, and one fund per branch.

Thành phố Hà Nội (city)            ← city_leader, manager (city)
├── Quận Ba Đình (district)        ← district_leader
│   ├── Phường Phúc Xá (commune)   ← commune_clerk
│   └── Phường Trúc Bạch (commune)
└── Quận Hoàn Kiếm (district)      ← sibling_clerk (outsider to Ba Đình)
    └── Phường Hàng Bạc (commune)
"""

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from associations.models import BranchLevel, DivisionType, MemberCategory, OrganizationKind, StaffRole
from funds.models import Fund, FundModel, LegalForm
from plans.services import indicators_recompute_all, plan_99_load
from tests.factories import (
    PASSWORD,
    TODAY,
    HeadcountFactory,
    MemberFactory,
    StaffProfileFactory,
    UserFactory,
    make_branch,
    org_with_board,
)


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
def fund_model(db):
    # get_or_create: transactional tests flush the rows the data migration seeded.
    return FundModel.objects.get_or_create(code="hoi-cac-cap", defaults={"name": "Quỹ khuyến học của Hội các cấp"})[0]


@pytest.fixture
def funds(tree, fund_model):
    """One fund per branch of the cast's tree, empty."""
    clan = FundModel.objects.get_or_create(code="dong-ho", defaults={"name": "Quỹ khuyến học dòng họ"})[0]

    def make(branch, name, model=fund_model):
        return Fund.objects.create(branch=branch, name=name, fund_model=model, legal_form=LegalForm.INTERNAL)

    return SimpleNamespace(
        city=make(tree.city, "Quỹ Khuyến học Hà Nội"),
        ba_dinh=make(tree.ba_dinh, "Quỹ Khuyến học quận Ba Đình"),
        phuc_xa=make(tree.phuc_xa, "Quỹ Khuyến học phường Phúc Xá"),
        phuc_xa_clan=make(tree.phuc_xa, "Quỹ khuyến học dòng họ Nguyễn Phúc Xá", clan),
        truc_bach=make(tree.truc_bach, "Quỹ Khuyến học phường Trúc Bạch"),
        hoan_kiem=make(tree.hoan_kiem, "Quỹ Khuyến học quận Hoàn Kiếm"),
    )


def _transactional(item) -> bool:
    """Whether the test commits for real (pytest-django flushes every table after it, the
    rows the migrations seed included), as pytest-django tells them apart."""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    fixtures = getattr(item, "fixturenames", ())
    return "transactional_db" in fixtures or "live_server" in fixtures


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The files marked `slow` first, in their order (pytest-django then puts the tests that
    commit after the others, keeping this order within each part).

    `make test` hands whole files to parallel processes (`--dist loadgroup`), in this order:
    a long file started last would run alone at the end. A file's committing tests are a
    group of their own, queued after every file's other tests, so that in each process they
    run after the tests that need the migrations' seeded rows, as in one process."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if config.getvalue("dist") == "loadgroup":
        for item in items:
            path = item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(f"{path}-commits" if _transactional(item) else path))


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


@pytest.fixture
def plan_data(tree):
    """Plan 99 on the cast's tree with a few organisations, members and headcounts, computed as of TODAY.

    Board coverage on TODAY: Phúc Xá 2/3, Trúc Bạch 0/1, Ba Đình 2/4, Hàng Bạc 1/1, city 3/5.
    Membership on TODAY: Phúc Xá 3 of 10, Hàng Bạc 1 of 2, city 4 of 12.
    """
    a1 = org_with_board(tree.phuc_xa)
    org_with_board(tree.phuc_xa, founded_on=datetime.date(2019, 9, 1))  # after 30/06/2019: not a year ago
    org_with_board(tree.phuc_xa, founded_on=None)
    org_with_board(tree.truc_bach, founded_on=None)
    c1 = org_with_board(tree.hang_bac, kind=OrganizationKind.PUBLIC_SERVICE)
    for _ in range(3):
        MemberFactory(branch=tree.phuc_xa, organization=a1, category=MemberCategory.CIVIL_SERVANT)
    MemberFactory(branch=tree.hang_bac, organization=c1, category=MemberCategory.WORKER)
    HeadcountFactory(organization=a1, year=2019, civil_servants=10)
    HeadcountFactory(organization=c1, year=2018, workers=2)
    plan = plan_99_load()
    indicators_recompute_all(today=TODAY)
    return SimpleNamespace(
        plan=plan,
        board=plan.targets.get(indicator="board_coverage"),
        membership=plan.targets.get(indicator="cadre_membership"),
    )
