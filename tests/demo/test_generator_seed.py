"""The synthetic Hanoi's seed: the same seed gives the same rows, written into an empty registry
(those the generator sends and those the database makes from them), and another seed does not."""

import hashlib

import pytest
from django.db import connection, transaction
from django.db.models import NOT_PROVIDED

from associations.maps import hanoi_map_load
from demo.generator import HanoiGenerator
from demo.generator.writers import InsertWriter
from funds.models import LedgerEntry, Payment

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def _rows_fingerprint(seed: int, *, tables: tuple | None = None, writer=None) -> tuple[str, dict[str, int]]:
    """Every row the generator writes for `seed` — those it sends and those the database makes
    from them (payments, ledger, evaluations) — read back in id order and hashed, and the rows
    per table; rolled back after. Columns filled by the database's clock (a default of now)
    are left out. Only the models of `tables` when given; `writer` replaces the generator's."""
    generator = HanoiGenerator(scale="small", seed=seed)
    if writer is not None:
        generator.writer = writer
    digest = hashlib.sha256()
    counts: dict[str, int] = {}
    with transaction.atomic():  # the registry stage moves the parents' child counts: undo it
        first_ids = {model: generator._next_id(model) for model in HanoiGenerator.WRITTEN}
        generator._load_context()
        generator._build_registry()
        generator._write_members()
        generator._build_donations()
        generator._build_awards()
        generator._write_ledger()
        generator._build_learning()
        with connection.cursor() as cursor:
            for model in tables or HanoiGenerator.WRITTEN:
                table = model._meta.db_table
                columns = [f.column for f in model._meta.concrete_fields if f.db_default is NOT_PROVIDED]
                cursor.execute(
                    f'SELECT {", ".join(columns)} FROM "{table}" WHERE id >= %s ORDER BY id',
                    [first_ids[model]],
                )
                rows = cursor.fetchall()
                digest.update(f"{table}:{','.join(columns)}:{rows!r}".encode())
                counts[table] = counts.get(table, 0) + len(rows)
        transaction.set_rollback(True)
    return digest.hexdigest(), counts


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not():
    hanoi_map_load(vintage="2017")
    first = _rows_fingerprint(11)
    assert _rows_fingerprint(11) == first, "the same rows, so the same counts per table"
    for table in ("learning_household", "learning_registration", "learning_evaluation", "learning_decision"):
        assert first[1][table] > 0, table
    assert _rows_fingerprint(12)[0] != first[0]


def test_the_payments_and_ledger_the_server_makes_are_the_rows_the_python_path_writes():
    hanoi_map_load(vintage="2017")
    money = (Payment, LedgerEntry)
    by_the_server = _rows_fingerprint(11, tables=money)
    by_python = _rows_fingerprint(11, tables=money, writer=InsertWriter())
    assert by_the_server[1]["funds_ledgerentry"] > 0
    assert by_the_server == by_python
