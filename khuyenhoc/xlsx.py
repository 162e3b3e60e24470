"""Excel exports written as a stream: openpyxl's write-only mode keeps one row in memory at a
time (it spools rows to a temporary file), so exporting a million members needs no more
memory than exporting ten."""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def text_cell(sheet, value: str):
    """Typed text stays text: openpyxl would store "=HYPERLINK(…)" as a live formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def write_xlsx(output, *, sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence], widths=None) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, header in enumerate(headers, start=1):
        width = (widths or {}).get(index) or max(12, min(40, len(str(header)) + 6))
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=str(header))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    sheet.freeze_panes = "A2"

    def date_cell(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD/MM/YYYY"
        return cell

    for row in rows:
        sheet.append(
            [
                date_cell(value)
                if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
                else text_cell(sheet, value)
                if isinstance(value, str)
                else value
                for value in row
            ]
        )
    workbook.save(output)


def xlsx_response(*, filename: str, sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> FileResponse:
    """An .xlsx download of the rows, spooled to a temporary file and streamed from there."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it after sending
    write_xlsx(spool, sheet_title=sheet_title, headers=headers, rows=rows)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
