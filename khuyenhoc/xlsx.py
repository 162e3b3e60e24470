"""The one Excel (.xlsx) writer of the portal: lists, exports and reports all go through it.

The workbook is written in openpyxl's write-only mode, which keeps one row in memory at a
time, spooled to a temporary file and streamed from there: exporting a million members needs
no more memory than exporting ten. Cells are typed here, once for every export:

- text stays text: a name typed as "=HYPERLINK(…)" is never stored as a live formula, and
  text that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
  return) is also quote-prefixed, so editing the cell later keeps it text;
- whole numbers (amounts in đồng, counts) carry a thousands-grouped format, shown as
  1.500.000 by a Vietnamese Excel;
- a year passed as Plain(2020) is shown without grouping;
- a rate passed as Rate(fraction) is stored as the fraction (0.667) with a percent format,
  so Excel shows 66,7 % and computes with it;
- dates read dd/mm/yyyy.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0"
PERCENT_FORMAT = "0.00%"  # two decimals, as the dashboards and panels show them
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
# What a spreadsheet may take for the start of a formula when a cell is typed or pasted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses these in a sheet name, and names longer than 31 characters.
SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")
SHEET_TITLE_MAX = 31

TITLE_FONT = Font(bold=True, size=13)
HEADER_FONT = Font(bold=True)


@dataclass
class Sheet:
    """One sheet: optional heading rows (the first one is its title), then a table."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    heading: Sequence[Sequence] = ()
    widths: Mapping[int, float] | None = None  # column number (from 1) → width; others fit their header


@dataclass(frozen=True)
class Rate:
    """A rate for a cell: the fraction (2 of 3 → Rate(2 / 3)), shown with PERCENT_FORMAT."""

    fraction: float | None

    @classmethod
    def of_percent(cls, percent) -> Rate:
        """66.67 (a percentage, as the portal computes them) → Rate(0.6667)."""
        return cls(None if percent is None else float(percent) / 100)


@dataclass(frozen=True)
class Plain:
    """A whole number shown without grouping, such as a year (2020, not 2.020)."""

    value: int | None


def _cut_at_word(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` characters that ends at a whole word."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if not text[limit].isspace():
        space = cut.rfind(" ")
        if space > 0:  # a single word longer than the limit can only be cut inside
            cut = cut[:space]
    return cut.rstrip(" ,;.-–—(") or text[:limit]


def sheet_title(title: str, taken: Collection[str] = ()) -> str:
    """A name Excel accepts: no []:*?/\\, at most 31 characters cut at a word boundary, and
    unlike every name in `taken` (compared as Excel does, ignoring case)."""
    text = " ".join(SHEET_TITLE_FORBIDDEN.sub("-", str(title)).split()).strip("'") or "-"
    taken_folded = {name.casefold() for name in taken}
    result = _cut_at_word(text, SHEET_TITLE_MAX)
    number = 1
    while result.casefold() in taken_folded:
        number += 1
        suffix = f" ({number})"
        result = _cut_at_word(text, SHEET_TITLE_MAX - len(suffix)) + suffix
    return result


def cell(worksheet, value, *, font: Font | None = None) -> WriteOnlyCell:
    """A cell typed as described at the top of this module."""
    if isinstance(value, Rate):
        result = WriteOnlyCell(worksheet, value=value.fraction)
        result.number_format = PERCENT_FORMAT
    elif isinstance(value, Plain):
        result = WriteOnlyCell(worksheet, value=value.value)
        result.number_format = "0"
    else:
        result = WriteOnlyCell(worksheet, value=value)
    if isinstance(value, str):
        result.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            result.quotePrefix = True
    elif isinstance(value, int) and not isinstance(value, bool):
        result.number_format = MONEY_FORMAT
    elif isinstance(value, datetime.datetime):
        result.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        result.number_format = DATE_FORMAT
    if font is not None:
        result.font = font
    return result


def _write_sheet(workbook: Workbook, sheet: Sheet) -> None:
    worksheet = workbook.create_sheet(sheet_title(sheet.title, taken=workbook.sheetnames))
    # Column widths and frozen panes must be set before the first row: write-only mode
    # writes the sheet's header part when the first row arrives.
    widths = sheet.widths or {}
    for index, header in enumerate(sheet.headers, start=1):
        width = widths.get(index) or max(12, min(40, len(str(header)) + 6))
        worksheet.column_dimensions[get_column_letter(index)].width = width
    header_row = len(sheet.heading) + (2 if sheet.heading else 1)
    if sheet.headers:
        worksheet.freeze_panes = f"A{header_row + 1}"
    for number, line in enumerate(sheet.heading):
        worksheet.append([cell(worksheet, value, font=TITLE_FONT if number == 0 else None) for value in line])
    if sheet.heading:
        worksheet.append([])
    if sheet.headers:
        worksheet.append([cell(worksheet, str(header), font=HEADER_FONT) for header in sheet.headers])
    for row in sheet.rows:
        worksheet.append([cell(worksheet, value) for value in row])


def write_workbook(output, sheets: Sequence[Sheet]) -> None:
    """Write the sheets as an .xlsx into a binary file object."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook, sheet)
    workbook.save(output)


def xlsx_response(filename: str, sheets: Sequence[Sheet]) -> FileResponse:
    """An .xlsx download of the sheets, spooled to a temporary file and streamed from there."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it after sending
    write_workbook(spool, sheets)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
