"""What the embedded SQLite needs beyond the models' own schema.

`member_name_sort_idx` on (name_sort, id): the members list in Vietnamese order walks it and
stops at the page's 50 rows instead of sorting the subtree through the Python "vi" collation
(bench/NOTES.md, 02/12/2026). It exists on SQLite only: PostgreSQL sorts full_name by its ICU
collation and would only pay for the index on every import. It is not in Member.Meta (which
cannot name a database) but made after every `migrate`, so a later migration that remakes the
member table (SQLite's way to alter a column) cannot lose it.

The statistics (ANALYZE, bounded by `analysis_limit`) are refreshed after every `migrate` and
after the demo's generation: without them SQLite counts a clerk's members by scanning the whole
member table and probing each row's branch (31 ms on the demo, ten times that under load); with
them it reads the clerk's branches first, then their members by the branch index (under 1 ms).
"""

from django.db import connections

MEMBER_NAME_SORT_INDEX = "member_name_sort_idx"
ANALYSIS_LIMIT = 1000  # rows ANALYZE samples per index: fast at any size, enough for the planner


def sqlite_statistics_refresh(using: str = "default") -> None:
    """Refresh the query planner's statistics of the SQLite database (nothing elsewhere)."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        _statistics_refresh(connection)


def sqlite_indexes_ensure(sender, using="default", **kwargs) -> None:
    """post_migrate: make the SQLite-only indexes that are missing and refresh the statistics
    (nothing on other databases)."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        sqlite_schema_complete(connection)


def sqlite_schema_complete(connection) -> None:
    """On a SQLite connection: the member sort index if the column exists (not before migration
    0011, nor after `migrate associations zero`), then fresh statistics."""
    with connection.cursor() as cursor:
        cursor.execute('PRAGMA table_info("associations_member")')
        if "name_sort" in {row[1] for row in cursor.fetchall()}:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{MEMBER_NAME_SORT_INDEX}" ON "associations_member" ("name_sort", "id")'
            )
    _statistics_refresh(connection)


def _statistics_refresh(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
