"""Reading conversion tables: the official file, uploads of the same columns, derived rounds."""

import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from reorganisation import tables
from reorganisation.tables import PART, WHOLE, derive_round, derived_csv, parse_table, read_list

OFFICIAL = tables.DATA_DIR / "conversion-2025-07-01.csv"
HEADER = "Tỉnh thành phố,Tên Xã mới,Mã Xã mới,Tên Xã cũ,Mã Xã cũ,Ghi chú,Quận/huyện,Tỉnh cũ\n"


def test_the_official_table_reads_526_old_units_into_126_new_ones():
    rows = parse_table(OFFICIAL.read_bytes(), OFFICIAL.name)
    assert len(rows) == 795
    assert len({row.old_code for row in rows}) == 526
    assert len({row.new_code for row in rows}) == 126
    # Stray quotes and spaces in the notes do not matter: every note is whole or part.
    assert {row.kind for row in rows} == {WHOLE, PART}
    old_codes = [row.old_code for row in rows]
    split = {code for code in old_codes if old_codes.count(code) > 1}
    assert len(split) == 198  # split between several new units
    assert all(row.kind == PART for row in rows if row.old_code in split)
    first = rows[0]
    assert (first.row, first.new_name, first.old_name) == (3, "Phường Ba Đình", "Phường Trúc Bạch")


def test_notes_are_normalised():
    assert tables.note_kind('"Nhập một phần  diện tích ') == PART
    assert tables.note_kind("Nhập một phần (diện tích)") == PART
    assert tables.note_kind("Nhập toàn bộ") == WHOLE
    assert tables.note_kind("Giữ nguyên") is None


def test_an_uploaded_xlsx_with_one_header_row_reads_like_the_csv():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["Hà Nội", "Phường Ba Đình", "00004", "Phường Phúc Xá", 1, "Nhập toàn bộ", "Quận Ba Đình", ""])
    output = io.BytesIO()
    workbook.save(output)
    rows = parse_table(output.getvalue(), "bang.xlsx")
    assert [(row.row, row.old_code, row.new_code, row.kind) for row in rows] == [(2, "00001", "00004", WHOLE)]


def test_bad_rows_are_named_and_nothing_is_returned():
    text = HEADER + (
        "Hà Nội,Phường Ba Đình,00004,Phường Phúc Xá,,Nhập toàn bộ,,\n"
        "Hà Nội,Phường Ba Đình,00004,Phường Trúc Bạch,00004,Giữ nguyên,,\n"
        "Hà Nội,Phường Ba Đình,00004,Phường Trúc Bạch,00004,Nhập toàn bộ,,\n"
        "Hà Nội,,abc,Phường Ngọc Hà,00016,Nhập một phần,,\n"
    )
    with pytest.raises(ValidationError) as error:
        parse_table(text.encode(), "bang.csv")
    messages = error.value.messages
    assert "Dòng 2: thiếu mã cũ." in messages
    assert any(m.startswith("Dòng 3: ghi chú 'Giữ nguyên' không phải") for m in messages)
    assert any(m.startswith("Dòng 5: mã mới 'abc' không phải là số") for m in messages)


def test_a_whole_merge_into_two_units_is_refused():
    text = HEADER + (
        "Hà Nội,Phường Ba Đình,00004,Phường Phúc Xá,00001,Nhập toàn bộ,,\n"
        "Hà Nội,Phường Ngọc Hà,00016,Phường Phúc Xá,00001,Nhập một phần,,\n"
    )
    with pytest.raises(ValidationError, match="00001 được nhập toàn bộ vào một đơn vị nhưng vẫn xuất hiện"):
        parse_table(text.encode(), "bang.csv")


def test_a_file_without_the_columns_or_of_another_type_is_refused():
    with pytest.raises(ValidationError, match="Không tìm thấy dòng tiêu đề của bảng"):
        parse_table(b"a,b,c\n1,2,3\n", "bang.csv")
    with pytest.raises(ValidationError, match=r"dạng \.xlsx hoặc \.csv"):
        parse_table(b"whatever", "bang.pdf")
    with pytest.raises(ValidationError, match="Không đọc được tệp này dưới dạng"):
        parse_table(b"not a zip", "bang.xlsx")


@pytest.mark.parametrize(
    ("old", "new", "shipped"),
    [
        ("communes-2020-02-25.csv", "communes-2021-02-03.csv", "derived-2020-01-01.csv"),
        ("communes-2021-02-03.csv", "communes-2025-01-04.csv", "derived-2025-01-01.csv"),
    ],
)
def test_the_shipped_derived_tables_are_what_the_rule_gives(old, new, shipped):
    rows = derive_round(read_list(tables.DATA_DIR / old), read_list(tables.DATA_DIR / new))
    assert derived_csv(rows) == (tables.DATA_DIR / shipped).read_text(encoding="utf-8")
    assert all(row.derived and row.rule for row in rows)


def test_a_vanished_unit_goes_to_the_renamed_unit_whose_name_contains_it():
    rows = derive_round(
        read_list(tables.DATA_DIR / "communes-2021-02-03.csv"), read_list(tables.DATA_DIR / "communes-2025-01-04.csv")
    )
    by_old = {row.old_code: row for row in rows}
    assert by_old["00184"].new_name == "Phường Văn Miếu - Quốc Tử Giám"  # Quốc Tử Giám
    assert by_old["00181"].new_code == "00181" and by_old["00181"].rule == tables.RULE_RENAMED
    # Nguyễn Trung Trực vanished and no renamed unit of Ba Đình contains its name.
    assert by_old["00010"].new_code == "" and by_old["00010"].rule == tables.RULE_UNPLACED
