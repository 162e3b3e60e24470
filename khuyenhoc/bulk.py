"""Large inserts: PostgreSQL COPY, with a plain bulk_create elsewhere (SQLite, the embedded mode).

`bulk_insert(model, objects, fields)` writes unsaved model instances and sets their primary
keys, like `Model.objects.bulk_create`, but on PostgreSQL it reserves the keys from the
table's sequence in one query and streams the rows with COPY, which costs a fraction of a
multi-row INSERT's parameters and statement parsing. It calls no save(), sends no signal and
fills only the given fields (columns left out take their database default, e.g. db_default).
Text is escaped for COPY's text format. Values must be plain (text, numbers, dates, ids,
JSON for a JSONField), as an import's planned records are.

`upsert_unnest(model, …)` (PostgreSQL only) inserts or updates many rows on a unique key by
one `INSERT … SELECT FROM unnest(one array per column) ON CONFLICT … DO UPDATE` per 50 000
rows: no model instance and no parameter per value (the stored figures and indicator values
of a whole city are hundreds of thousands of rows).
"""

from __future__ import annotations

import datetime
import io
import json
import operator
from collections.abc import Mapping, Sequence

from django.db import connection, models
from django.utils import timezone

from khuyenhoc.page_cache import writes_note

COPY_ROWS = 20_000  # rows per COPY statement: bounds the buffer's memory
UPSERT_ROWS = 50_000  # rows per upsert statement (one array per column)


def _escape(text: str) -> str:
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return _escape(value)
    if kind is int:
        return str(value)
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _escape(json.dumps(value, ensure_ascii=False))
    return _escape(str(value))


def bulk_insert(model: type[models.Model], objects: Sequence[models.Model], fields: Sequence[str] = ()) -> None:
    """Insert `objects` (unsaved) with the given concrete fields (by default every concrete
    field but the primary key and those with a db_default); their pk is set afterwards.

    A DateTimeField with auto_now / auto_now_add among `fields` gets the time now, as save()
    would give it."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=1000)
        return
    meta = model._meta
    if fields:
        concrete = [meta.get_field(name) for name in fields]
    else:
        concrete = [
            field for field in meta.concrete_fields if not field.primary_key and field.db_default is models.NOT_PROVIDED
        ]
    now = None
    for field in concrete:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            now = now or timezone.now()
            for obj in objects:
                setattr(obj, field.attname, now)
    pk = meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objects)],
        )
        for obj, (key,) in zip(objects, cursor.fetchall(), strict=True):
            setattr(obj, pk.attname, key)
        quote = connection.ops.quote_name
        sql = "COPY {} ({}) FROM STDIN".format(
            quote(meta.db_table), ", ".join(quote(field.column) for field in (pk, *concrete))
        )
        raw = cursor.cursor  # psycopg2's own cursor: Django's wrapper has no copy_expert
        # Every value of a row in one call; the JSON fields' positions (pk first) and encoders.
        values_of = operator.attrgetter(pk.attname, *(field.attname for field in concrete))
        json_at = [
            (at, field.encoder) for at, field in enumerate(concrete, start=1) if isinstance(field, models.JSONField)
        ]
        for start in range(0, len(objects), COPY_ROWS):
            buffer = io.StringIO()
            for obj in objects[start : start + COPY_ROWS]:
                values = values_of(obj)
                if json_at:
                    values = list(values)
                    for at, encoder in json_at:
                        values[at] = json.dumps(values[at], ensure_ascii=False, cls=encoder)
                buffer.write("\t".join(map(_copy_text, values)))
                buffer.write("\n")
            buffer.seek(0)
            raw.copy_expert(sql, buffer)
        writes_note(sql, connection)  # COPY passes Django's cursor by: the page cache is told here
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


def upsert_unnest(
    model: type[models.Model],
    *,
    unique: Sequence[str],
    columns: Sequence[str],
    arrays: Sequence[Sequence],
    update: Sequence[str] = (),
    add: Sequence[str] = (),
    constants: Mapping[str, object] | None = None,
    touch: Sequence[str] = (),
) -> int:
    """PostgreSQL: insert `model`'s rows, or update them where the unique key `unique`
    (field names, a unique constraint's) is already stored. `columns` are the fields that
    vary by row, `arrays` one list of values per column (all the same length);
    `constants` fields whose value is the same for every row; `update` the fields a stored
    row takes from the new one, `add` those to which the new row's value is added, `touch`
    those set back to their database default (e.g. computed_at). Rows are written in the
    arrays' order (two writers that sort their rows lock shared ones in the same order).
    Answers the rows sent."""
    constants = dict(constants or {})
    count = len(arrays[0]) if arrays else 0
    if not count:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    def cast(name: str) -> str:
        return meta.get_field(name).db_type(connection)

    names = [*constants, *columns]
    selected = [*(f"%s::{cast(name)}" for name in constants), *(f"v.{column(name)}" for name in columns)]
    unnested = ", ".join(f"%s::{cast(name)}[]" for name in columns)
    aliases = ", ".join(column(name) for name in columns)
    updates = [
        *(f"{column(name)} = EXCLUDED.{column(name)}" for name in update),
        *(f"{column(name)} = {quote(meta.db_table)}.{column(name)} + EXCLUDED.{column(name)}" for name in add),
        *(f"{column(name)} = DEFAULT" for name in touch),
    ]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(column(name) for name in names)}) "  # noqa: S608 — a model's table and columns
        f"SELECT {', '.join(selected)} FROM unnest({unnested}) WITH ORDINALITY AS v({aliases}, row_order) "
        "ORDER BY v.row_order "
        f"ON CONFLICT ({', '.join(column(name) for name in unique)}) DO UPDATE SET {', '.join(updates)}"
    )
    with connection.cursor() as cursor:
        for start in range(0, count, UPSERT_ROWS):
            pages = [list(values[start : start + UPSERT_ROWS]) for values in arrays]
            cursor.execute(sql, [*constants.values(), *pages])
    return count
