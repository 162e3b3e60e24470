"""The import reader's own sheet parser gives exactly what openpyxl gives for the same sheet:
strings, numbers, dates and times, yes/no cells, formulas, gaps between cells and empty rows."""

import datetime
import io

from openpyxl import Workbook, load_workbook

from khuyenhoc.imports.reader import fast_values


def _workbook_bytes() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Ngày sinh", "Số CCCD", "Số tiền", "Có", "Ghi chú"])
    sheet.append(["Nguyễn Thị Lan", datetime.date(1980, 2, 29), "001080000123", 1500000, True, None])
    sheet.append(["Phạm Văn Đức", datetime.datetime(1975, 12, 31, 8, 30), 1234, 2.5, False, "ghi chú"])
    sheet.append([])  # an empty row between the data
    sheet.append([None, None, None, "=1+1", None, "Đ"])  # a formula with no saved value
    sheet.cell(row=7, column=9, value="xa")  # a cell far to the right, after a missing row
    sheet.cell(row=8, column=2, value=datetime.time(7, 45))
    sheet["B8"].number_format = "hh:mm"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_fast_reader_reads_the_same_rows_as_openpyxl():
    data = _workbook_bytes()
    expected_book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    expected_sheet = expected_book.active
    expected_sheet.reset_dimensions()
    expected = [tuple(row) for row in expected_sheet.iter_rows(values_only=True)]
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.active
    sheet.reset_dimensions()

    got = [tuple(row) for row in fast_values(sheet)]

    def trimmed(row):  # openpyxl pads a row to the sheet's width with empty cells
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        return tuple(row)

    assert [trimmed(row) for row in got] == [trimmed(row) for row in expected]
    assert got[1][1] == datetime.datetime(1980, 2, 29)
    assert got[1][2] == "001080000123"
    assert got[2][4] is False
    assert len(got) == len(expected) == 8
