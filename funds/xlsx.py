"""Excel (.xlsx) exports of lists and reports, written with openpyxl in write-only mode so a
long list streams row by row instead of building every cell in memory."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from io import BytesIO

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"


class Sheet:
    def __init__(self, title: str, headers: Sequence[str], rows: Iterable[Sequence], *, heading: Sequence[str] = ()):
        self.title = title[:31]
        self.headers = headers
        self.rows = rows
        self.heading = heading


def _cell(worksheet, value, *, bold: bool = False):
    cell = WriteOnlyCell(worksheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # typed text stays text: "=HYPERLINK(…)" is not a formula
    elif isinstance(value, int) and not isinstance(value, bool):
        cell.number_format = MONEY_FORMAT
    elif isinstance(value, datetime.date):
        cell.number_format = DATE_FORMAT
    if bold:
        cell.font = Font(bold=True)
    return cell


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title)
        for line in sheet.heading:
            worksheet.append([_cell(worksheet, line, bold=True)])
        if sheet.heading:
            worksheet.append([])
        worksheet.append([_cell(worksheet, header, bold=True) for header in sheet.headers])
        for row in sheet.rows:
            worksheet.append([_cell(worksheet, value) for value in row])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, sheets: Sequence[Sheet]) -> HttpResponse:
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
