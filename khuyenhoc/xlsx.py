"""The one Excel (.xlsx) writer of the portal: lists, exports and reports all go through it.

The workbook is written in openpyxl's write-only mode, which keeps one row in memory at a
time, spooled to a temporary file and streamed from there: exporting a million members needs
no more memory than exporting ten. Cells are typed here, once for every export:

- text stays text: a name typed as "=HYPERLINK(…)" is never stored as a live formula, and
  text that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
  return) is also quote-prefixed, so editing the cell later keeps it text;
- whole numbers (amounts in đồng, counts) carry a thousands-grouped format, shown as
  1.500.000 by a Vietnamese Excel;
- dates read dd/mm/yyyy.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
# What a spreadsheet may take for the start of a formula when a cell is typed or pasted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses these in a sheet name, and names longer than 31 characters.
SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")

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


def sheet_title(title: str) -> str:
    return SHEET_TITLE_FORBIDDEN.sub("-", str(title))[:31]


def cell(worksheet, value, *, font: Font | None = None) -> WriteOnlyCell:
    """A cell typed as described at the top of this module."""
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
    worksheet = workbook.create_sheet(sheet_title(sheet.title))
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
