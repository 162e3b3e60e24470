"""PostgreSQL-only indexes for the members and organisations lists at Hanoi's size.

- pg_trgm GIN indexes serve `name_search LIKE '%nguyen van%'` (diacritic-free search).
- An index on full_name in the ICU Vietnamese collation serves the list sorted by name
  (A Ă Â … Đ … Ơ … Ư), so a page of 2 million members is read from the index, not sorted.
On SQLite (the embedded default) nothing is done: it has neither, and needs neither.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS member_name_search_trgm ON associations_member USING gin (name_search gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS organization_name_search_trgm ON associations_organization "
    "USING gin (name_search gin_trgm_ops)",
    'CREATE INDEX IF NOT EXISTS member_full_name_vi ON associations_member ((full_name COLLATE "vi-VN-x-icu"), id)',
]
BACKWARD = [
    "DROP INDEX IF EXISTS member_full_name_vi",
    "DROP INDEX IF EXISTS organization_name_search_trgm",
    "DROP INDEX IF EXISTS member_name_search_trgm",
]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("associations", "0001_registry")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
