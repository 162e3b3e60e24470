"""Reading an uploaded workbook as a stream of rows, and the errors found in it.

The workbook is opened in openpyxl's read-only mode: rows are yielded one by one and the
file is never loaded whole. Errors name the Excel row number (the header is row 1), the
column header and the problem.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from khuyenhoc.imports.parsers import CellError, is_blank
from khuyenhoc.text import search_key

logger = logging.getLogger(__name__)

# Limits that keep a bad or hostile upload from hurting the server.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # an .xlsx of 200 000 member rows is about 15 MB
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024  # refuses "zip bombs" before parsing
MAX_DATA_ROWS = 200_000
MAX_STORED_ERRORS = 500

INSTRUCTIONS_SHEET = "Hướng dẫn"
HEADER_ROW = 1


class ImportFileError(Exception):
    """The file as a whole cannot be read: not an .xlsx, wrong headers, empty, too big."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # fixed Vietnamese header: the file format, not the interface language
    parse: Callable[[Any], Any]
    required: bool = False
    help: Any = ""  # translatable explanation for the instructions sheet
    example: str = ""
    choices: tuple[str, ...] = ()  # labels offered as a drop-down list in the template
    text_format: bool = False  # format the template column as text (codes, dates)
    aliases: tuple[str, ...] = ()


def header_key(text: Any) -> str:
    """Headers compare without accents, case, '*' marks or a note in brackets."""
    text = re.sub(r"\(.*?\)", " ", str(text or "")).replace("*", " ")
    return search_key(text)


@dataclass
class ParsedRow:
    number: int  # the Excel row number
    values: dict[str, Any]  # parsed values of the columns present in the file
    # Keys of the cells that could not be read (their errors are logged; they are absent
    # from values). A row with any is never written, but its other rules are still checked.
    failed: frozenset = frozenset()


@dataclass
class ErrorLog:
    cap: int = MAX_STORED_ERRORS
    count: int = 0
    items: list[dict] = field(default_factory=list)
    bad_rows: set = field(default_factory=set)
    # Every error since the last take_recent(), uncapped: one chunk's, for the annotated copy.
    recent: list[tuple[int | None, str, str]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """How many rows have at least one error."""
        return len(self.bad_rows)

    def add(self, row: int | None, column: str, message: str) -> None:
        self.count += 1
        self.bad_rows.add(row)
        if len(self.items) < self.cap:
            self.items.append({"row": row, "column": str(column), "message": str(message)})
        self.recent.append((row, str(column), str(message)))

    def take_recent(self) -> list[tuple[int | None, str, str]]:
        """The errors added since the last call (row, column header, message)."""
        recent, self.recent = self.recent, []
        return recent


class Sheet:
    """The data sheet of an uploaded workbook, read as a stream of ParsedRow."""

    def __init__(self, file, columns: tuple[Column, ...]):
        self.columns = columns
        self.workbook = _open_workbook(file)
        self.worksheet = _data_worksheet(self.workbook)
        self.estimated_rows = max(0, (self.worksheet.max_row or 1) - HEADER_ROW)
        if self.estimated_rows > MAX_DATA_ROWS * 2:
            # The sheet's own dimension claims far too many rows (trailing formatted rows
            # count too, so only a gross excess is refused before reading).
            raise ImportFileError(_too_many_rows())
        # Some programs write a wrong <dimension>; read every row the sheet really has.
        self.worksheet.reset_dimensions()
        self._formulas_without_value = _formulas_without_value(self.worksheet)
        self._rows = fast_values(self.worksheet)
        self.positions = self._read_header()

    def close(self) -> None:
        self.workbook.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_header(self) -> dict[str, int]:
        header = next(self._rows, None)
        if header is None or all(is_blank(cell) for cell in header):
            raise ImportFileError(
                _("The first row of the sheet must hold the column headers of the template; it is empty.")
            )
        known = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                known[header_key(name)] = column
        positions: dict[str, int] = {}
        unknown = []
        for index, cell in enumerate(header):
            if is_blank(cell):
                continue
            column = known.get(header_key(cell))
            if column is None:
                unknown.append(str(cell).strip())
            elif column.key in positions:
                raise ImportFileError(_("The column “%(column)s” appears twice.") % {"column": column.header})
            else:
                positions[column.key] = index
        missing = [column.header for column in self.columns if column.required and column.key not in positions]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
            if unknown:
                parts.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
            raise ImportFileError(
                _(
                    "The headers in row 1 do not match the template (%(problems)s). "
                    "Download the template and keep its headers."
                )
                % {"problems": "; ".join(parts)}
            )
        return positions

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(Excel row number, {column key: raw value}) for every non-blank row."""
        positions = self.positions
        data_rows = 0
        for number, cells in enumerate(self._rows, start=HEADER_ROW + 1):
            if not cells or all(is_blank(cell) for cell in cells):
                continue
            data_rows += 1
            if data_rows > MAX_DATA_ROWS:
                raise ImportFileError(_too_many_rows())
            width = len(cells)
            row = {key: (cells[index] if index < width else None) for key, index in positions.items()}
            if self._formulas_without_value:
                for key, index in positions.items():
                    if (number, index) in self._formulas_without_value and is_blank(row[key]):
                        row[key] = FORMULA_WITHOUT_VALUE
            yield number, row


class _FormulaWithoutValue:
    """A cell holding a formula whose value was never calculated: a workbook written by a
    program (not saved by Excel) keeps the formula alone, and reading it gives nothing."""

    def __repr__(self) -> str:
        return "FORMULA_WITHOUT_VALUE"


FORMULA_WITHOUT_VALUE = _FormulaWithoutValue()
_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*?(?:/>|>(.*?)</c>)', re.DOTALL)
_VALUE = re.compile(rb"<v>[^<]+</v>|<is>")


def _formulas_without_value(worksheet) -> frozenset[tuple[int, int]]:
    """(Excel row, column index) of the formula cells that carry no calculated value. The
    sheet's XML is scanned in chunks; a sheet without any formula costs one byte search."""
    from openpyxl.utils import column_index_from_string

    found = set()
    source = worksheet._get_source()
    try:
        pending = b""
        while chunk := source.read(1 << 20):
            pending += chunk
            cut = pending.rfind(b"</row>")
            if cut < 0:
                continue
            part, pending = pending[: cut + 6], pending[cut + 6 :]
            if b"<f" not in part:
                continue
            for match in _CELL.finditer(part):
                body = match.group(3) or b""
                if b"<f" in body and not _VALUE.search(body):
                    found.add((int(match.group(2)), column_index_from_string(match.group(1).decode()) - 1))
    finally:
        source.close()
    return frozenset(found)


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([^"]+)"')
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData[\s/>]")


def _quick_size(worksheet) -> None:
    """openpyxl's ReadOnlyWorksheet._get_size, without parsing the whole sheet when it has no
    <dimension> (workbooks written by programs often have none: openpyxl then parses every
    row once more before the first is read). The dimension, when present, comes before the
    sheet's data: the XML is read up to <sheetData> only. Same result as the original."""
    from openpyxl.utils.cell import range_boundaries

    source = worksheet._get_source()
    try:
        head = b""
        while chunk := source.read(1 << 16):
            head += chunk
            found = _DIMENSION.search(head)
            if found:
                try:
                    bounds = range_boundaries(found.group(1).decode())
                except (TypeError, ValueError):
                    return  # a damaged dimension: the rows are counted as they are read
                worksheet._min_column, worksheet._min_row, worksheet._max_column, worksheet._max_row = bounds
                return
            if _SHEET_DATA.search(head):
                return
    finally:
        source.close()


def _install_quick_size() -> None:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    ReadOnlyWorksheet._get_size = _quick_size


_install_quick_size()


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW, _CELL_TAG, _V, _IS, _T, _R, _RPH = (f"{_MAIN_NS} {name}" for name in ("row", "c", "v", "is", "t", "r", "rPh"))


def _column_index(reference: str) -> int:
    """1 for "A7", 28 for "AB7"."""
    index = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
        elif char.isdigit():
            break
        else:
            raise ValueError(f"not a cell reference: {reference!r}")
    return index


def fast_values(worksheet) -> Iterator[tuple]:
    """The rows of a read-only worksheet as openpyxl's `iter_rows(values_only=True)` gives them
    after reset_dimensions() (the same values, types and empty rows), read with expat directly
    instead of building an element tree and cell objects: a third of the time for large sheets.
    Formulas give their computed value (the workbook is opened with data_only)."""
    from xml.parsers import expat

    from openpyxl.utils.datetime import from_excel, from_ISO8601
    from openpyxl.worksheet._reader import _cast_number

    parent = worksheet.parent
    shared_strings = worksheet._shared_strings
    date_formats, timedelta_formats, epoch = parent._date_formats, parent._timedelta_formats, parent.epoch
    done: list[tuple[int, list]] = []
    state = {"row": 0, "column": 0, "cells": None, "type": "n", "style": 0, "text": None, "inline": None, "rph": 0}
    text: list[str] = []

    def start(name, attrs):
        if name == _CELL_TAG:
            reference = attrs.get("r")
            if reference:
                state["column"] = _column_index(reference)
            else:
                state["column"] += 1
            state["type"] = attrs.get("t", "n")
            style = attrs.get("s")
            state["style"] = int(style) if style else 0
            state["text"] = state["inline"] = None
        elif name == _V or (name == _T and state["inline"] is not None and not state["rph"]):
            text.clear()
            parser.CharacterDataHandler = text.append
        elif name == _IS:
            state["inline"] = []
        elif name == _RPH:
            state["rph"] += 1
        elif name == _ROW:
            number = attrs.get("r")
            if number:
                try:
                    state["row"] = int(number)
                except ValueError:
                    value = float(number)
                    if not value.is_integer():
                        raise ValueError(f"{number} is not a valid row number") from None
                    state["row"] = int(value)
            else:
                state["row"] += 1
            state["column"] = 0
            state["cells"] = []

    def end(name):
        if name == _V:
            parser.CharacterDataHandler = None
            state["text"] = "".join(text)
        elif name == _T and parser.CharacterDataHandler is not None:
            parser.CharacterDataHandler = None
            state["inline"].append("".join(text))
        elif name == _RPH:
            state["rph"] -= 1
        elif name == _CELL_TAG:
            kind = state["type"]
            if kind == "inlineStr":
                value = "".join(state["inline"]) if state["inline"] is not None else None
            else:
                value = state["text"] or None
                if value is not None:
                    if kind == "n":
                        value = _cast_number(value)
                        if state["style"] in date_formats:
                            try:
                                value = from_excel(value, epoch, timedelta=state["style"] in timedelta_formats)
                            except (OverflowError, ValueError):
                                value = "#VALUE!"
                    elif kind == "s":
                        value = shared_strings[int(value)]
                    elif kind == "b":
                        value = bool(int(value))
                    elif kind == "d":
                        value = from_ISO8601(value)
            state["cells"].append((state["column"], value))
        elif name == _ROW:
            done.append((state["row"], state["cells"]))

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.buffer_text = True
    counter = 1
    with worksheet._get_source() as source:
        while True:
            chunk = source.read(1 << 16)
            parser.Parse(chunk, not chunk)
            for number, cells in done:
                while counter < number:  # rows missing from the sheet come as empty ones
                    counter += 1
                    yield []
                if counter <= number:
                    counter += 1
                    if not cells:
                        yield ()
                        continue
                    width = cells[-1][0]
                    row = [None] * width
                    for column, value in cells:
                        if 1 <= column <= width:
                            row[column - 1] = value
                    yield tuple(row)
            done.clear()
            if not chunk:
                break


def _too_many_rows() -> str:
    return _("The file has more than %(limit)s data rows: split it into several files.") % {
        "limit": f"{MAX_DATA_ROWS:,}".replace(",", ".")
    }


def _open_workbook(file):
    from openpyxl import load_workbook

    if hasattr(file, "seek"):
        file.seek(0)
    if not zipfile.is_zipfile(file):
        if hasattr(file, "seek"):
            file.seek(0)
            start = file.read(8)
            file.seek(0)
            if start.startswith(b"\xd0\xcf\x11\xe0"):
                raise ImportFileError(
                    _(
                        "This is an old-style Excel file (.xls). "
                        "Open it in Excel and save it as .xlsx, then upload that."
                    )
                )
        raise ImportFileError(_("This is not an Excel .xlsx file. Use the template and save it as .xlsx."))
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise ImportFileError(_("The file unpacks to more data than an import may hold."))
        if hasattr(file, "seek"):
            file.seek(0)
        # data_only: a formula cell gives the value Excel last computed for it.
        return load_workbook(file, read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged or foreign zip
        logger.info("unreadable workbook: %r", error)
        raise ImportFileError(
            _("The file cannot be read as an Excel workbook. Save it again as .xlsx and retry.")
        ) from error


def _data_worksheet(workbook):
    for worksheet in workbook.worksheets:
        if header_key(worksheet.title) != header_key(INSTRUCTIONS_SHEET) and worksheet.sheet_state == "visible":
            return worksheet
    raise ImportFileError(_("The workbook has no data sheet."))


def parse_row(number: int, raw: dict[str, Any], columns: tuple[Column, ...], errors: ErrorLog) -> ParsedRow:
    """Parse each present cell, recording the error of every wrong one; the row's `failed`
    names those cells (absent from its values)."""
    values: dict[str, Any] = {}
    failed = set()
    for column in columns:
        if column.key not in raw:
            continue
        value = raw[column.key]
        if value is FORMULA_WITHOUT_VALUE:
            errors.add(
                number,
                column.header,
                _(
                    "The cell holds a formula without a calculated value: "
                    "open the file in Excel and save it, or type the value."
                ),
            )
            failed.add(column.key)
            continue
        if column.required and is_blank(value):
            errors.add(number, column.header, _("This column is required."))
            failed.add(column.key)
            continue
        try:
            values[column.key] = column.parse(value)
        except CellError as error:
            errors.add(number, column.header, error.message)
            failed.add(column.key)
    return ParsedRow(number, values, frozenset(failed))


def parse_cells(number: int, raw: dict[str, Any], columns: tuple[Column, ...], errors: ErrorLog) -> ParsedRow | None:
    """Parse each present cell; record errors and return None when any cell is wrong."""
    row = parse_row(number, raw, columns, errors)
    return None if row.failed else row


def chunked(iterable: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
