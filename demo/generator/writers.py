"""Bulk writers: PostgreSQL COPY for the full-size data, plain multi-row INSERTs elsewhere.

Rows are tuples in the order of the given columns, with explicit primary keys; the writers
never call save() and never send signals. Text fields hold generated text only, which has
no tab, newline or backslash, so the PostgreSQL text format needs no escaping beyond NULL.
"""

from __future__ import annotations

import datetime
import io
import queue
import threading
from collections.abc import Iterable, Sequence

from django.core.management.color import no_style
from django.db import connection

COPY_CHUNK_ROWS = 50_000
INSERT_CHUNK_ROWS = 2_000


def _pg_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class PostgresCopyWriter:
    """COPY … FROM STDIN in chunks of COPY_CHUNK_ROWS rows from in-memory buffers.

    A thread builds the next chunk's text while the main thread streams the previous one to
    PostgreSQL, so on two cores Python and the server work at the same time.
    """

    vendor = "postgresql"

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        chunks: queue.Queue = queue.Queue(maxsize=2)

        def produce() -> None:
            try:
                buffer, in_buffer = io.StringIO(), 0
                for row in rows:
                    buffer.write("\t".join(map(_pg_text, row)))
                    buffer.write("\n")
                    in_buffer += 1
                    if in_buffer >= COPY_CHUNK_ROWS:
                        chunks.put((buffer, in_buffer))
                        buffer, in_buffer = io.StringIO(), 0
                if in_buffer:
                    chunks.put((buffer, in_buffer))
                chunks.put(None)
            except BaseException as error:  # handed to the main thread, which raises it
                chunks.put(error)

        producer = threading.Thread(target=produce, name=f"copy-{table}", daemon=True)
        producer.start()
        count = 0
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg2's own cursor: Django's wrapper has no copy_expert
            while (item := chunks.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                buffer, in_buffer = item
                buffer.seek(0)
                raw.copy_expert(sql, buffer)
                count += in_buffer
        producer.join()
        return count


class InsertWriter:
    """Multi-row INSERTs through the DB-API executemany: SQLite and any other database."""

    vendor = "other"

    def __init__(self):
        self.ops = connection.ops

    def _adapt(self, value):
        if isinstance(value, datetime.datetime):
            return self.ops.adapt_datetimefield_value(value)
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        quote = self.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 — a model's table and columns
            quote(table), ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
        )
        count = 0
        chunk: list[tuple] = []
        adapt = self._adapt
        with connection.cursor() as cursor:
            for row in rows:
                chunk.append(tuple(adapt(value) for value in row))
                if len(chunk) >= INSERT_CHUNK_ROWS:
                    cursor.executemany(sql, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                cursor.executemany(sql, chunk)
                count += len(chunk)
        return count


def writer_for_connection():
    return PostgresCopyWriter() if connection.vendor == "postgresql" else InsertWriter()


def reset_sequences(models) -> None:
    """After explicit ids: move each table's id sequence past its largest id (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
