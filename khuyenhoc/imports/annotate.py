"""The uploaded workbook given back with its errors: the data sheet copied row by row, each
row with an error gets a last column naming them and its bad cells filled in red.

Streaming, like the reader: the original is read in openpyxl's read-only mode and the copy
written in write-only mode, so memory stays bounded whatever the size. The copy is started
only when the check finds a first error (`AnnotatedCopy.copy_until` then catches up from the
top), so a clean file costs nothing more. Row numbers stay those of the original: blank rows
are copied too, and the header is row 1.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from khuyenhoc.imports.reader import HEADER_ROW, _data_worksheet, _open_workbook

ERROR_HEADER = "Lỗi cần sửa"  # the file's language, like its headers
BAD_FILL = PatternFill(fill_type="solid", start_color="FFF4CCCC", end_color="FFF4CCCC")
ERROR_FONT = Font(color="FF9C0006")
HEADER_FONT = Font(bold=True)
MAX_COMMENTS = 2000  # comments are kept until the copy is saved: the error column says it all


class AnnotatedCopy:
    """Copy of the data sheet of `source` (a binary file), annotated chunk by chunk.

    `columns_at` maps a column header, as errors name it, to its 0-based position in the sheet.
    """

    def __init__(self, source, columns_at: dict[str, int]):
        self.columns_at = columns_at
        self.source = source
        self.workbook = _open_workbook(source)
        worksheet = _data_worksheet(self.workbook)
        worksheet.reset_dimensions()
        self._rows = worksheet.iter_rows(values_only=True)
        self.out = Workbook(write_only=True)
        self.sheet = self.out.create_sheet(worksheet.title)
        header = list(next(self._rows, None) or ())
        self.width = len(header)
        cells = [self._cell(value, font=HEADER_FONT) for value in header]
        cells.append(self._cell(ERROR_HEADER, font=HEADER_FONT))
        self.sheet.append(cells)
        self.next_number = HEADER_ROW + 1
        self.rows_with_errors = 0
        self.comments = 0

    def _cell(self, value, *, font=None, fill=None):
        cell = WriteOnlyCell(self.sheet, value=value)
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        return cell

    def copy_until(self, last_number: int, errors: Iterable[tuple[int | None, str, str]]) -> None:
        """Copy the rows up to Excel row `last_number`, annotating those named in `errors`
        (row, column header, message)."""
        by_row: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for row, column, message in errors:
            if row is not None:
                by_row[row].append((column, message))
        while self.next_number <= last_number:
            values = next(self._rows, None)
            if values is None:
                break
            self._write(list(values), by_row.get(self.next_number, []))
            self.next_number += 1

    def _write(self, values: list, problems: list[tuple[str, str]]) -> None:
        values += [None] * (self.width - len(values))
        bad = {self.columns_at[column] for column, _message in problems if column in self.columns_at}
        cells = [self._cell(value, fill=BAD_FILL if index in bad else None) for index, value in enumerate(values)]
        if problems:
            self.rows_with_errors += 1
            for index in bad:
                if self.comments >= MAX_COMMENTS:
                    break
                messages = [message for column, message in problems if self.columns_at.get(column) == index]
                cells[index].comment = Comment("\n".join(messages), "Cổng khuyến học")
                self.comments += 1
            text = "\n".join(f"{column}: {message}" if column else message for column, message in problems)
            note = self._cell(text, font=ERROR_FONT)
            note.alignment = Alignment(wrap_text=True, vertical="top")
            cells.append(note)
        self.sheet.append(cells)

    def finish(self, errors: Iterable[tuple[int | None, str, str]] = ()):
        """Copy the remaining rows; return the copy as a temporary file, at its start."""
        self.copy_until(10**9, errors)
        self.close()
        output = tempfile.TemporaryFile()  # noqa: SIM115  (returned open: the caller stores and closes it)
        self.out.save(output)
        output.seek(0)
        return output

    def close(self) -> None:
        """Close the original (the copy is left to `finish`)."""
        self.workbook.close()
        if hasattr(self.source, "close"):
            self.source.close()
