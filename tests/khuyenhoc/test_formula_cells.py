"""A formula cell without a calculated value (a workbook written by a script, never saved by
Excel) is refused as such (issue 15 item 12), not as an empty required cell."""

import io

import pytest
from django.utils import translation
from openpyxl import Workbook

from khuyenhoc.imports import Column, ErrorLog, Sheet, parse_cells, parse_date, parse_text

COLUMNS = (
    Column("name", "Họ và tên", parse_text, required=True),
    Column("born", "Ngày sinh", parse_date),
)
FORMULA_MESSAGE = "The cell holds a formula without a calculated value"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _workbook(*rows) -> io.BytesIO:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    output = io.BytesIO()
    workbook.save(output)  # openpyxl keeps formulas as written, with no calculated value
    output.seek(0)
    return output


def _errors(file) -> list[dict]:
    errors = ErrorLog()
    with Sheet(file, COLUMNS) as sheet:
        for number, raw in sheet.rows():
            parse_cells(number, raw, COLUMNS, errors)
    return errors.items


def test_a_required_cell_holding_a_bare_formula_says_so():
    errors = _errors(_workbook(["Họ và tên", "Ngày sinh"], ["=1+1", "01/02/1990"], ["An", "01/02/1990"]))
    assert len(errors) == 1
    assert errors[0]["row"] == 2 and errors[0]["column"] == "Họ và tên"
    assert FORMULA_MESSAGE in errors[0]["message"]
    assert "required" not in errors[0]["message"]


def test_an_optional_cell_holding_a_bare_formula_is_not_read_as_empty():
    errors = _errors(_workbook(["Họ và tên", "Ngày sinh"], ["An", "=DATE(1990,2,1)"]))
    assert [(e["row"], e["column"]) for e in errors] == [(2, "Ngày sinh")]
    assert FORMULA_MESSAGE in errors[0]["message"]


def test_a_formula_saved_with_its_value_is_read_as_that_value():
    file = _workbook(["Họ và tên", "Ngày sinh"], ["=1+1", None])
    patched = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(file) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<f>1+1</f><v></v>", b"<f>1+1</f><v>2</v>").replace(
                    b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>"
                )
                assert b"<v>2</v>" in data
            target.writestr(item, data)
    patched.seek(0)
    assert _errors(patched) == []
