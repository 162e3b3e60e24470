"""`make backup` and `make restore`: a pg_dump of the portal's database restores with every
row, into a new database and over a changed one."""

import os
import subprocess
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from associations.models import AuditEntry, Member
from funds.models import Donation, LedgerEntry
from plans.models import IndicatorValue
from scholarships.models import Award
from tests.trust.data import fill

ROOT = Path(__file__).resolve().parents[2]
CHECKSUMMED = [Member, Donation, LedgerEntry, Award, AuditEntry, IndicatorValue]

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def database_url():
    if not os.environ.get("DATABASE_URL"):
        pytest.skip("needs PostgreSQL: run the suite with `make test`")
    return "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict)


@pytest.fixture
def spare_database(database_url):
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = psycopg2.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield database_url.rsplit("/", 1)[0] + "/" + name
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def snapshot(url: str) -> dict[str, object]:
    """Row count of every table, and a checksum of the full contents of the money and registry tables."""
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        state: dict[str, object] = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            state[table] = cursor.fetchone()[0]
        for model in CHECKSUMMED:
            table = model._meta.db_table
            cursor.execute(f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM \"{table}\" t")
            state[f"md5:{table}"] = cursor.fetchone()[0]
    db.close()
    return state


def run(script: str, *args: str, url: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", f"scripts/{script}", *args],
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=url, **env),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_a_backup_restores_every_row_into_a_new_database_and_over_a_changed_one(
    tree, cast, request, database_url, spare_database, tmp_path
):
    fill(tree, cast, request.getfixturevalue("funds"))
    before = snapshot(database_url)
    assert before["funds_donation"] == 6 and before["associations_member"] == 20 and before["plans_indicatorvalue"]

    dumped = run("backup.sh", str(tmp_path), url=database_url)
    assert dumped.returncode == 0, dumped.stderr
    dump = Path(dumped.stdout.strip())
    assert dump.parent == tmp_path and dump.suffix == ".dump" and dump.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))

    restored = run("restore.sh", str(dump), url=spare_database, CONFIRM="yes")
    assert restored.returncode == 0, restored.stderr
    assert snapshot(spare_database) == before

    # Over a database that changed since the dump: the dump's state comes back exactly.
    with psycopg2.connect(spare_database) as db, db.cursor() as cursor:
        cursor.execute("DELETE FROM associations_member WHERE id IN (SELECT id FROM associations_member LIMIT 5)")
        cursor.execute("UPDATE funds_donation SET donor_name = 'đã sửa'")
    db.close()
    assert snapshot(spare_database) != before
    again = run("restore.sh", str(dump), url=spare_database, CONFIRM="yes")
    assert again.returncode == 0, again.stderr
    assert snapshot(spare_database) == before


def test_restore_refuses_without_a_file_or_without_confirmation(database_url, spare_database, tmp_path):
    no_file = run("restore.sh", url=spare_database)
    assert no_file.returncode == 2 and "FILE=" in no_file.stderr
    not_a_dump = tmp_path / "not.dump"
    not_a_dump.write_text("hello")
    refused = run("restore.sh", str(not_a_dump), url=spare_database, CONFIRM="yes")
    assert refused.returncode == 2 and "not a pg_dump" in refused.stderr

    dump = Path(run("backup.sh", str(tmp_path), url=database_url).stdout.strip())
    unconfirmed = run("restore.sh", str(dump), url=spare_database)  # no terminal, no CONFIRM=yes
    assert unconfirmed.returncode == 2 and "CONFIRM=yes" in unconfirmed.stderr
    with psycopg2.connect(spare_database) as db, db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert cursor.fetchone()[0] == 0  # nothing was restored
    db.close()


def test_backup_refuses_without_a_postgresql_url(tmp_path):
    result = run("backup.sh", str(tmp_path), url="")
    assert result.returncode == 2 and "DATABASE_URL" in result.stderr
    assert list(tmp_path.iterdir()) == []
