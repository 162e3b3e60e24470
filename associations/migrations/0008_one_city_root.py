"""One tree: the 2025 map's communes move under the one city root, founded on 01/07/2025.

Until now each map had its own root "Thành phố Hà Nội". The 2025 root's children (with
everything under them) become children of the 2017 root, keeping their order; every row
that pointed at the 2025 root (an account, a plan…) points at the one root; the 2025 root
is deleted. Nothing else changes: no member, organisation, fund or award moves, so row
counts and Plan 99's values are the same before and after. Moving what lived under the old
units is a reorganisation, applied in the portal (the reorganisation app).

Set-based: one UPDATE per moved child subtree (126 on Hanoi's data: the tree, not a data
table), one per foreign-key column that can point at the deleted root. The reverse splits
the tree again.
"""

import datetime

from django.db import migrations

IN_FORCE_2025 = datetime.date(2025, 7, 1)
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STEPLEN = 4


def _step(number: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, len(ALPHABET))
        digits = ALPHABET[digit] + digits
    return digits.rjust(STEPLEN, "0")


def _repoint(schema_editor, table: str, old_id: int, new_id: int) -> None:
    """Every foreign-key column, in any table, that points at `old_id` of `table` → `new_id`."""
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    with connection.cursor() as cursor:
        for other in connection.introspection.table_names(cursor):
            for column, (_target_column, target_table) in connection.introspection.get_relations(cursor, other).items():
                if target_table == table:
                    cursor.execute(
                        f"UPDATE {quote(other)} SET {quote(column)} = %s WHERE {quote(column)} = %s",  # noqa: S608
                        [new_id, old_id],
                    )


def _move_children(schema_editor, table: str, source, target, children) -> int:
    """Re-hang each child subtree of `source` under `target`, after its last child."""
    quote = schema_editor.quote_name
    last = max(
        (child.path for child in children if child.path.startswith(target.path) and child.depth == target.depth + 1),
        default=None,
    )
    number = int(last[-STEPLEN:], 36) if last else 0
    moved = 0
    with schema_editor.connection.cursor() as cursor:
        for child in children:
            if not child.path.startswith(source.path) or child.depth != source.depth + 1:
                continue
            number += 1
            new_prefix = target.path + _step(number)
            cursor.execute(
                f"UPDATE {quote(table)} SET path = %s || SUBSTR(path, %s) WHERE path LIKE %s",  # noqa: S608
                [new_prefix, len(child.path) + 1, child.path + "%"],
            )
            moved += 1
    return moved


def join_roots(apps, schema_editor):
    Branch = apps.get_model("associations", "Branch")
    table = Branch._meta.db_table
    roots = list(Branch.objects.filter(depth=1, level="city").order_by("path"))
    old_roots = [root for root in roots if root.vintage == "2017"]
    new_roots = [root for root in roots if root.vintage == "2025"]
    if not new_roots:
        return
    new_root = new_roots[0]
    # The 2025 map's units are in force from 01/07/2025 (Resolution 1656/NQ-UBTVQH15).
    Branch.objects.filter(
        path__startswith=new_root.path, depth__gt=1, level__in=["district", "commune"], founded_on__isnull=True
    ).update(founded_on=IN_FORCE_2025)
    if not old_roots:
        return
    root = old_roots[0]
    children = list(Branch.objects.filter(depth=2).order_by("path").only("path", "depth"))
    moved = _move_children(schema_editor, table, new_root, root, children)
    Branch.objects.filter(pk=root.pk).update(numchild=root.numchild + moved)
    _repoint(schema_editor, table, new_root.pk, root.pk)
    Branch.objects.filter(pk=new_root.pk).delete()


def split_roots(apps, schema_editor):
    """Back to two roots: the city's children founded on 01/07/2025 go under a new 2025 root."""
    Branch = apps.get_model("associations", "Branch")
    table = Branch._meta.db_table
    root = Branch.objects.filter(depth=1, level="city").order_by("path").first()
    if root is None:
        return
    children = list(
        Branch.objects.filter(depth=2, path__startswith=root.path, founded_on=IN_FORCE_2025).order_by("path")
    )
    if not children:
        return
    last_root = Branch.objects.filter(depth=1).order_by("-path").first()
    new_root = Branch.objects.create(
        path=_step(int(last_root.path, 36) + 1),
        depth=1,
        numchild=0,
        name=root.name,
        level="city",
        division_type=root.division_type,
        code=root.code,
        vintage="2025",
    )
    moved = 0
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        for number, child in enumerate(children, start=1):
            cursor.execute(
                f"UPDATE {quote(table)} SET path = %s || SUBSTR(path, %s), vintage = '2025' WHERE path LIKE %s",  # noqa: S608
                [new_root.path + _step(number), len(child.path) + 1, child.path + "%"],
            )
            moved += 1
    Branch.objects.filter(pk=new_root.pk).update(numchild=moved)
    Branch.objects.filter(pk=root.pk).update(numchild=root.numchild - moved)


class Migration(migrations.Migration):
    dependencies = [
        ("associations", "0007_reorganisation_lineage"),
    ]

    operations = [
        migrations.RunPython(join_roots, split_roots),
    ]
