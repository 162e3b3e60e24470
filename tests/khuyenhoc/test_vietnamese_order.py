"""Vietnamese alphabetical order on both databases (issue 15 item 11): the embedded SQLite of
`make run` sorts one list of names exactly as PostgreSQL's ICU collation does."""

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

from associations.models import Member
from khuyenhoc.db import vietnamese_order
from khuyenhoc.text import vietnamese_sort_key

NAMES = [
    "Phan", "Phạm", "Phàm", "Phám", "Phảm", "Phãm", "Pham", "Đào", "Dương", "Vũ", "Võ", "Ân", "An", "Ăn",
    "Anh", "An B", "Ana", "an", "AN", "Bình 2", "Bình 10", "Bình", "Zô", "Wăn", "Yến", "Xuân", "Ý", "Ỷ",
    "Ơn", "Ôn", "On", "Ưng", "Ung", "Fa", "Ja", "Ia", "Ka", "Nguyễn Văn An", "Nguyễn Văn Ân", "Nguyễn Vân",
    "Nguyên", "Nguyển", "Ng-A", "Ng A", "Ng.A", "Lê-Anh", "Lê Anh", "Lệ", "Lễ", "lê", "Đặng Thị Hồng",
    "Đỗ Văn Nam", "Trần Thị Lan", "Trương Văn Bảo", "Hoàng Minh Đức", "Huỳnh Thu Hà",
]  # fmt: skip


@pytest.fixture
def sqlite(django_db_blocker):
    """A fresh SQLite connection made the way `make run`'s is (Django's backend, the portal's signal)."""
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:", "OPTIONS": {"timeout": 20}}}
    )
    wrapper = handler["default"]
    with django_db_blocker.unblock():  # an in-memory database of the test's own, not the test database
        yield wrapper
        wrapper.close()


def _sqlite_order(wrapper, names):
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE person (name TEXT)")
        cursor.executemany("INSERT INTO person (name) VALUES (%s)", [(name,) for name in names])
        cursor.execute('SELECT name FROM person ORDER BY name COLLATE "vi"')
        return [row[0] for row in cursor.fetchall()]


def test_d_stroke_comes_after_d_and_base_letters_before_tones_on_sqlite(sqlite):
    order = _sqlite_order(sqlite, ["Vũ", "Đào", "Dương", "Phan", "Phạm"])
    assert order == ["Dương", "Đào", "Phạm", "Phan", "Vũ"]


@pytest.mark.django_db
def test_sqlite_sorts_the_list_exactly_as_postgresqls_icu_collation(sqlite):
    if connection.vendor != "postgresql":
        pytest.skip("compares with PostgreSQL: run with `make test`")
    with connection.cursor() as cursor:
        cursor.execute('SELECT x FROM unnest(%s::text[]) AS t(x) ORDER BY x COLLATE "vi-VN-x-icu"', [NAMES])
        postgresql = [row[0] for row in cursor.fetchall()]
    assert _sqlite_order(sqlite, NAMES) == postgresql
    assert sorted(NAMES, key=vietnamese_sort_key) == postgresql


def test_the_orm_orders_by_the_collation_of_the_database_that_runs_the_query(sqlite):
    query = Member.objects.order_by(vietnamese_order("full_name")).query
    sql, _params = query.get_compiler(connection=sqlite).as_sql()
    assert 'COLLATE "vi"' in sql
    if connection.vendor == "postgresql":
        sql, _params = query.get_compiler(connection=connection).as_sql()
        assert 'COLLATE "vi-VN-x-icu"' in sql
