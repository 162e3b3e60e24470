"""Database helpers that differ between PostgreSQL and the embedded SQLite default."""

from contextlib import contextmanager
from functools import lru_cache

from django.db import connection
from django.db.models import F, Func, TextField
from django.db.models.functions import Collate

from khuyenhoc.text import vietnamese_sort_key

# ICU collation shipped with PostgreSQL builds that have ICU (Debian's and the official image).
VIETNAMESE_COLLATION = "vi-VN-x-icu"
# The same order on SQLite (`make run`'s embedded database): a collation registered on every
# connection as it opens (`sqlite_collation_register`, connected in KhuyenhocConfig.ready()).
SQLITE_COLLATION = "vi"


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple:
    return vietnamese_sort_key(text)


def vietnamese_compare(left: str, right: str) -> int:
    """SQLite's collation callback: negative, zero or positive as `left` sorts before, with or after `right`."""
    a, b = _key(left), _key(right)
    return (a > b) - (a < b)


def sqlite_collation_register(sender, connection, **kwargs) -> None:
    """connection_created: give a new SQLite connection the Vietnamese collation."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(SQLITE_COLLATION, vietnamese_compare)


class VietnameseCollate(Collate):
    """A text expression in Vietnamese order, whichever database compiles it: ICU's collation on
    PostgreSQL, the registered one on SQLite, the database's own order elsewhere."""

    def __init__(self, expression):
        super().__init__(expression, VIETNAMESE_COLLATION)

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor == "postgresql":
            collation = VIETNAMESE_COLLATION
        elif connection.vendor == "sqlite":
            collation = SQLITE_COLLATION
        else:
            return compiler.compile(self.get_source_expressions()[0])
        extra_context["collation"] = connection.ops.quote_name(collation)
        return super().as_sql(compiler, connection, **extra_context)


class VietnameseSortKey(Func):
    """A text field in Vietnamese order, through its stored sort key on SQLite: the key column
    (`khuyenhoc.text.vietnamese_sort_string` of the field, kept by every writer) compared as
    plain text, which an index can serve, where the registered "vi" collation calls Python for
    every comparison. PostgreSQL (and any other database) orders the field as VietnameseCollate
    does; both orders are the same."""

    output_field = TextField()

    def __init__(self, expression, key):
        super().__init__(expression, key)

    def as_sql(self, compiler, connection, **extra_context):
        field, key = self.get_source_expressions()
        if connection.vendor == "sqlite":
            return compiler.compile(key)
        return compiler.compile(VietnameseCollate(field))


def vietnamese_order(field: str, *, descending: bool = False, key: str | None = None):
    """Order by a text field in Vietnamese alphabetical order, on PostgreSQL and SQLite alike;
    `key` names the field's stored sort key, which SQLite then orders by instead."""
    expression = VietnameseCollate(F(field)) if key is None else VietnameseSortKey(F(field), F(key))
    return expression.desc() if descending else expression.asc()


@contextmanager
def sqlite_busy_timeout(seconds: float):
    """Within the block, a SQLite write waits at most `seconds` for another writer's lock (then
    "database is locked"), instead of the connection's SQLITE_BUSY_TIMEOUT. No effect elsewhere."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    before = connection.connection.execute("PRAGMA busy_timeout").fetchone()[0]
    connection.connection.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        connection.connection.execute(f"PRAGMA busy_timeout = {int(before)}")
