"""Member.name_sort: the Vietnamese sort key of full_name as plain text, filled for every member.

The key is computed in Python (khuyenhoc.text.vietnamese_sort_string), once per distinct name:
on SQLite by a function registered on the connection, in one UPDATE; elsewhere through a
temporary table of the names and their keys, in one UPDATE … FROM.
"""

from django.db import migrations, models

from khuyenhoc.text import vietnamese_sort_string

BATCH = 5000


def name_sort_fill(apps, schema_editor):
    connection = schema_editor.connection
    table = "associations_member"
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function("vietnamese_sort_string", 1, vietnamese_sort_string, deterministic=True)
        schema_editor.execute(f'UPDATE "{table}" SET "name_sort" = vietnamese_sort_string("full_name")')
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE member_name_sort_keys (full_name varchar(200) PRIMARY KEY, name_sort text NOT NULL)"
        )
        cursor.execute(f'SELECT DISTINCT "full_name" FROM "{table}"')
        names = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(names), BATCH):
            batch = names[start : start + BATCH]
            cursor.executemany(
                "INSERT INTO member_name_sort_keys (full_name, name_sort) VALUES (%s, %s)",
                [(name, vietnamese_sort_string(name)) for name in batch],
            )
        cursor.execute(
            f'UPDATE "{table}" AS m SET "name_sort" = k.name_sort FROM member_name_sort_keys AS k '
            "WHERE k.full_name = m.full_name"
        )
        cursor.execute("DROP TABLE member_name_sort_keys")


class Migration(migrations.Migration):
    dependencies = [
        ("associations", "0010_export_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="name_sort",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(name_sort_fill, migrations.RunPython.noop, elidable=True),
    ]
