"""The import engine's cell parsers and workbook reader, without a database."""

import datetime
import io
import zipfile

import pytest
from django.utils import translation
from openpyxl import Workbook

from khuyenhoc.imports import (
    MAX_DATA_ROWS,
    CellError,
    Column,
    ImportFileError,
    Sheet,
    parse_amount,
    parse_choice,
    parse_date,
    parse_digits,
    parse_integer,
    parse_text,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        (1500000, 1_500_000),
        (1500000.0, 1_500_000),
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("1 500 000", 1_500_000),
        ("1.500.000 đ", 1_500_000),
        ("1.500.000 đồng", 1_500_000),
        ("2,000,000₫", 2_000_000),
        (" 500 ", 500),
    ],
)
def test_amounts_are_read_in_every_usual_way(typed, amount):
    assert parse_amount(typed) == amount


@pytest.mark.parametrize(
    "typed",
    [
        "1.5",
        "1,50",
        "1,5",
        "1.50",
        "1.5000",
        "12.34.567",
        -5,
        "-5",
        1.5,
        10**30,
        "1" + "0" * 30,
        "abc",
        "một triệu",
        0,
        True,
    ],
)
def test_amounts_that_could_be_misread_are_refused(typed):
    with pytest.raises(CellError):
        parse_amount(typed)


def test_an_empty_amount_is_none():
    assert parse_amount(None) is None
    assert parse_amount("  ") is None


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("25/03/2018", datetime.date(2018, 3, 25)),
        ("5/3/2018", datetime.date(2018, 3, 5)),
        ("25-03-2018", datetime.date(2018, 3, 25)),
        ("25.03.2018", datetime.date(2018, 3, 25)),
        ("2018-03-25", datetime.date(2018, 3, 25)),
        (datetime.datetime(2018, 3, 25), datetime.date(2018, 3, 25)),
        (datetime.date(2018, 3, 25), datetime.date(2018, 3, 25)),
    ],
)
def test_dates_are_read_as_text_or_excel_dates(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize("typed", ["31/02/2018", "2018/25/03", "25/03/18", "hôm qua", 43184, "01/01/1800", "#REF!"])
def test_wrong_dates_are_refused(typed):
    with pytest.raises(CellError):
        parse_date(typed)


def test_a_citizen_id_typed_as_a_number_gets_its_leading_zeros_back():
    assert parse_digits(1080012345, length=12) == "001080012345"
    assert parse_digits("001080012345", length=12) == "001080012345"
    with pytest.raises(CellError):
        parse_digits("00108001234x", length=12)


def test_integers_respect_their_bounds():
    assert parse_integer("1.234") == 1234
    with pytest.raises(CellError):
        parse_integer(-1)
    with pytest.raises(CellError):
        parse_integer("2,5")


def test_choices_match_labels_without_accents_or_case():
    choices = {"Nam": "male", "Nữ": "female"}
    assert parse_choice("nữ", choices) == "female"
    assert parse_choice("NAM", choices) == "male"
    with pytest.raises(CellError, match="Expected one of: Nam, Nữ"):
        parse_choice("Không rõ", choices)


def test_long_text_is_refused():
    with pytest.raises(CellError, match="at most 5 characters"):
        parse_text("abcdefgh", max_length=5)


COLUMNS = (
    Column("name", "Họ và tên", parse_text, required=True),
    Column("born", "Ngày sinh", parse_date),
)


def _workbook(*rows) -> io.BytesIO:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    output = io.BytesIO()
    workbook.save(output)
    output.seek(0)
    return output


def test_the_reader_maps_headers_in_any_order_and_skips_blank_rows():
    file = _workbook(["ngay sinh", "HỌ VÀ TÊN *"], ["01/02/1990", "An"], [None, None], [None, "Bình"])
    with Sheet(file, COLUMNS) as sheet:
        assert list(sheet.rows()) == [(2, {"born": "01/02/1990", "name": "An"}), (4, {"born": None, "name": "Bình"})]


def test_a_missing_required_header_is_named():
    with pytest.raises(ImportFileError, match="missing columns: Họ và tên"):
        Sheet(_workbook(["Ngày sinh"], ["01/02/1990"]), COLUMNS)


def test_an_unknown_header_is_named():
    with pytest.raises(ImportFileError, match="unknown columns: Quê quán"):
        Sheet(_workbook(["Họ và tên", "Quê quán"], ["An", "Huế"]), COLUMNS)


def test_a_file_that_is_not_a_zip_is_refused_clearly():
    with pytest.raises(ImportFileError, match=r"not an Excel \.xlsx file"):
        Sheet(io.BytesIO(b"name;born\nAn;1990\n"), COLUMNS)


def test_an_old_xls_file_is_told_to_be_saved_as_xlsx():
    with pytest.raises(ImportFileError, match=r"old-style Excel file \(.xls\)"):
        Sheet(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), COLUMNS)


def test_a_zip_that_is_not_a_workbook_is_refused_clearly():
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    with pytest.raises(ImportFileError, match="cannot be read as an Excel workbook"):
        Sheet(output, COLUMNS)


def test_an_empty_sheet_is_refused_clearly():
    with pytest.raises(ImportFileError, match="first row of the sheet must hold the column headers"):
        Sheet(_workbook(), COLUMNS)


def test_too_many_rows_are_refused_while_reading(monkeypatch):
    monkeypatch.setattr("khuyenhoc.imports.reader.MAX_DATA_ROWS", 3)
    file = _workbook(["Họ và tên"], ["A"], ["B"], ["C"], ["D"])
    with Sheet(file, COLUMNS) as sheet, pytest.raises(ImportFileError, match="more than 3 data rows"):
        list(sheet.rows())
    assert MAX_DATA_ROWS == 200_000
