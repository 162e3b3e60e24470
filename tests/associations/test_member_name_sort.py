"""Member.name_sort, the stored Vietnamese sort key the embedded SQLite orders the members list by
(issue 16 item 5): the same order as PostgreSQL's ICU collation, kept right by every writer."""

import datetime
import importlib

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate
from django.db.utils import ConnectionHandler
from django.test.utils import CaptureQueriesContext

from associations import services
from associations.models import Member
from associations.personal_data import member_erase
from associations.selectors import members_filtered
from associations.sqlite import MEMBER_NAME_SORT_INDEX, sqlite_schema_complete
from imports.models import ImportStatus
from khuyenhoc.pagination import CappedPaginator
from khuyenhoc.text import vietnamese_sort_key, vietnamese_sort_string
from tests.associations.test_imports import (  # noqa: F401 — the fixtures, as that module's tests use them
    AN_ID,
    GOOD_MEMBERS,
    MEMBER_HEADERS,
    _media_and_english,
    apply,
    upload,
    xlsx,
)
from tests.factories import MemberFactory
from tests.khuyenhoc.test_vietnamese_order import NAMES

# Beyond the portal's names: characters outside Vietnamese, also beyond the surrogates' range.
ODD_NAMES = ["漢字", "😀 An", "An 😀", "Ärger", "ß", "Ω", "", "  An", "An  ", "A\u0301n", "Án", "123", "1 2"]


def test_the_stored_key_orders_names_exactly_as_the_vietnamese_sort_key():
    names = NAMES + ODD_NAMES
    by_string = sorted(names, key=vietnamese_sort_string)
    by_key = sorted(names, key=vietnamese_sort_key)
    assert [vietnamese_sort_key(name) for name in by_string] == [vietnamese_sort_key(name) for name in by_key]
    for left in names:
        for right in names:
            assert (vietnamese_sort_string(left) < vietnamese_sort_string(right)) == (
                vietnamese_sort_key(left) < vietnamese_sort_key(right)
            ), (left, right)


def test_the_stored_key_never_holds_a_surrogate_so_any_database_stores_it():
    for name in ODD_NAMES:
        vietnamese_sort_string(name).encode("utf-8")  # a lone surrogate would raise here


@pytest.fixture
def sqlite(django_db_blocker):
    """A fresh in-memory SQLite connection made the way `make run`'s is."""
    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})
    wrapper = handler["default"]
    with django_db_blocker.unblock():
        yield wrapper
        wrapper.close()


def test_sqlite_orders_by_the_stored_key_as_its_vi_collation_orders_the_names(sqlite):
    names = NAMES + ODD_NAMES
    with sqlite.cursor() as cursor:
        cursor.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, name_sort TEXT)")
        cursor.executemany(
            "INSERT INTO person (name, name_sort) VALUES (%s, %s)",
            [(name, vietnamese_sort_string(name)) for name in names],
        )
        cursor.execute("CREATE INDEX person_sort ON person (name_sort, id)")
        cursor.execute('SELECT name FROM person ORDER BY name COLLATE "vi", id')
        by_collation = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT name FROM person ORDER BY name_sort, id")
        by_key = [row[0] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN QUERY PLAN SELECT name FROM person ORDER BY name_sort, id LIMIT 50")
        plan = " ".join(row[3] for row in cursor.fetchall())
    assert by_key == by_collation
    assert "person_sort" in plan and "TEMP B-TREE" not in plan  # walked in order, no sort


def test_the_members_list_sorts_by_the_key_on_sqlite_and_by_the_icu_collation_on_postgresql(sqlite, cast):
    for sort in ("name", "-name"):
        query = members_filtered(cast.admin, {"sort": sort}).query
        sql, _params = query.get_compiler(connection=sqlite).as_sql()
        order = sql.split("ORDER BY")[1]
        assert '"associations_member"."name_sort"' in order and "COLLATE" not in order
        if connection.vendor == "postgresql":
            sql, _params = query.get_compiler(connection=connection).as_sql()
            order = sql.split("ORDER BY")[1]
            assert 'COLLATE "vi-VN-x-icu"' in order and "name_sort" not in order


@pytest.mark.django_db
def test_the_stored_keys_order_members_as_postgresqls_icu_collation_does(tree):
    if connection.vendor != "postgresql":
        pytest.skip("compares with PostgreSQL: run with `make test`")
    for name in NAMES:
        MemberFactory(full_name=name, branch=tree.phuc_xa)
    by_icu = list(
        Member.objects.order_by(Collate(F("full_name"), "vi-VN-x-icu"), "pk").values_list("full_name", flat=True)
    )
    by_key = list(Member.objects.order_by(Collate(F("name_sort"), "C"), "pk").values_list("full_name", flat=True))
    assert by_key == by_icu


@pytest.mark.django_db
def test_a_rename_through_the_service_and_an_erasure_keep_the_key(cast, tree):
    member = services.member_create(
        actor=cast.commune_clerk,
        data={
            "full_name": "Trần Văn Bình",
            "category": "worker",
            "branch": tree.phuc_xa,
            "joined_on": datetime.date(2019, 1, 2),
        },
    )
    member.refresh_from_db()
    assert member.name_sort == vietnamese_sort_string("Trần Văn Bình")
    services.member_update(actor=cast.commune_clerk, member=member, data={"full_name": "Đặng Văn Ấn"})
    member.refresh_from_db()
    assert (member.name_search, member.name_sort) == ("dang van an", vietnamese_sort_string("Đặng Văn Ấn"))
    member = member_erase(actor=cast.commune_clerk, member=member)
    member.refresh_from_db()
    assert member.name_sort == vietnamese_sort_string(member.full_name)


@pytest.mark.django_db
def test_saving_only_the_name_also_saves_its_keys(tree):
    member = MemberFactory(full_name="Ân", branch=tree.phuc_xa)
    member.full_name = "Yến"
    member.save(update_fields=["full_name"])
    member.refresh_from_db()
    assert (member.name_search, member.name_sort) == ("yen", vietnamese_sort_string("Yến"))


@pytest.mark.django_db
def test_an_import_writes_the_key_of_the_members_it_creates_and_renames(upload, apply, cast, tree):  # noqa: F811
    renamed = MemberFactory(
        full_name="Nguyễn Văn Ân",
        citizen_id=AN_ID,
        date_of_birth=datetime.date(1980, 3, 25),
        gender="male",
        branch=tree.phuc_xa,
        joined_on=datetime.date(2018, 3, 1),
    )
    job = apply(cast.commune_clerk, upload(cast.commune_clerk, "members", xlsx(MEMBER_HEADERS, GOOD_MEMBERS)))
    assert job.status == ImportStatus.APPLIED, job.message
    assert (job.to_create, job.to_update) == (2, 1)
    renamed.refresh_from_db()
    assert renamed.full_name == "Nguyễn Văn An"
    for member in Member.objects.all():
        assert member.name_sort == vietnamese_sort_string(member.full_name), member.full_name


@pytest.mark.django_db
def test_the_migration_fills_the_key_of_every_member(tree):
    for name in ("Phạm Thị Lan", "Phan Văn Bảo", "Phạm Thị Lan"):
        MemberFactory(full_name=name, branch=tree.phuc_xa)
    Member.objects.update(name_sort="")
    migration = importlib.import_module("associations.migrations.0011_member_name_sort")
    with connection.schema_editor() as editor:
        migration.name_sort_fill(None, editor)
    assert {m.full_name: m.name_sort for m in Member.objects.all()} == {
        "Phạm Thị Lan": vietnamese_sort_string("Phạm Thị Lan"),
        "Phan Văn Bảo": vietnamese_sort_string("Phan Văn Bảo"),
    }


@pytest.mark.django_db
def test_the_capped_count_leaves_out_the_rows_joins_and_still_counts_them(cast, tree):
    for name in ("An", "Bình", "Chi"):
        MemberFactory(full_name=name, branch=tree.phuc_xa)
    members = members_filtered(cast.commune_clerk, {})
    paginator = CappedPaginator(members, 2)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 3
    assert "associations_organization" not in queries.captured_queries[-1]["sql"]


def test_sqlite_gets_the_sort_index_and_statistics_and_a_table_without_the_key_is_left_alone(sqlite):
    with sqlite.cursor() as cursor:
        cursor.execute('CREATE TABLE "associations_member" (id INTEGER PRIMARY KEY, full_name TEXT)')
    sqlite_schema_complete(sqlite)  # before migration 0011: no column, no index, no error
    with sqlite.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = %s", [MEMBER_NAME_SORT_INDEX])
        assert cursor.fetchone()[0] == 0
        cursor.execute("ALTER TABLE \"associations_member\" ADD COLUMN name_sort TEXT NOT NULL DEFAULT ''")
        cursor.executemany(
            'INSERT INTO "associations_member" (full_name, name_sort) VALUES (%s, %s)',
            [(name, vietnamese_sort_string(name)) for name in NAMES],
        )
    sqlite_schema_complete(sqlite)
    with sqlite.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [MEMBER_NAME_SORT_INDEX])
        assert '("name_sort", "id")' in cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'associations_member'")
        assert cursor.fetchone()[0] > 0
