"""The catalogue of list exports that may run in the background.

An app registers, under a kind ("members", "donations", "awards"), a function that builds
the export of its list for a user and the list's parameters: the rows' queryset (to count
them) and a function that yields the rows from it. The page that asks for an export
writes it during the request when it is small; above BACKGROUND_THRESHOLD rows it starts an
export job (associations.ExportJob) that the worker writes, row by row, through
khuyenhoc.xlsx — memory stays flat whatever the size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from khuyenhoc.xlsx import Sheet, write_workbook

BACKGROUND_THRESHOLD = 10_000
CHUNK_SIZE = 2000


@dataclass
class ListExport:
    """One list export, ready to write: a sheet's title and headers, the queryset and its rows."""

    filename: str
    title: str
    headers: Sequence[str]
    queryset: Any  # a QuerySet: counted, then read by `rows`
    rows: Callable[[Any], Iterable[Sequence]]
    personal_kind: str = ""  # the PersonalDataExportKind to record, if the rows hold personal data
    unmasked: bool = False


_REGISTRY: dict[str, Callable[..., ListExport]] = {}


def export_register(kind: str, build: Callable[..., ListExport]) -> None:
    """Register `build(user=…, params=…) -> ListExport` under `kind` (from an AppConfig.ready or a module)."""
    _REGISTRY[kind] = build


def export_build(kind: str, *, user, params) -> ListExport:
    try:
        build = _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"No list export is registered as {kind!r}") from None
    return build(user=user, params=params)


def export_kinds() -> list[str]:
    return sorted(_REGISTRY)


def count_above(queryset, threshold: int = BACKGROUND_THRESHOLD) -> int:
    """The rows of `queryset`, counted at most to threshold + 1 (enough to decide where to write)."""
    return queryset.order_by()[: threshold + 1].count()


def export_write(export: ListExport, output, *, on_progress: Callable[[int], None] | None = None) -> int:
    """Write the export as an .xlsx into a binary file object, a row at a time; returns the rows written.

    `on_progress(rows_written)` is called every CHUNK_SIZE rows (the worker's progress bar).
    """
    written = 0

    def counted():
        nonlocal written
        for row in export.rows(export.queryset):
            yield row
            written += 1
            if on_progress is not None and written % CHUNK_SIZE == 0:
                on_progress(written)

    write_workbook(output, [Sheet(export.title, export.headers, counted())])
    return written
