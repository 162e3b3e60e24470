"""Large inserts: PostgreSQL COPY, with a plain bulk_create elsewhere (SQLite, the embedded mode).

`bulk_insert(model, objects, fields)` writes unsaved model instances and sets their primary
keys, like `Model.objects.bulk_create`, but on PostgreSQL it reserves the keys from the
table's sequence in one query and streams the rows with COPY, which costs a fraction of a
multi-row INSERT's parameters and statement parsing. It calls no save(), sends no signal and
fills only the given fields (columns left out take their database default, e.g. db_default).
Text is escaped for COPY's text format. Values must be plain (text, numbers, dates, ids,
JSON for a JSONField), as an import's planned records are.
"""

from __future__ import annotations

import datetime
import io
import json
import operator
from collections.abc import Sequence

from django.db import connection, models
from django.utils import timezone

from khuyenhoc.page_cache import writes_note

COPY_ROWS = 20_000  # rows per COPY statement: bounds the buffer's memory


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
