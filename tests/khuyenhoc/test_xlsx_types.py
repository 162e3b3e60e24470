"""Sheet names Excel accepts, cut at whole words; rates and years typed for Excel (issue 15 item 9)."""

import io

from openpyxl import load_workbook

from khuyenhoc.xlsx import PERCENT_FORMAT, Plain, Rate, Sheet, sheet_title, write_workbook

LONG = "Đảng viên, cán bộ, công chức, viên chức, người lao động là hội viên"


def test_a_long_sheet_name_is_cut_after_a_whole_word():
    title = sheet_title(LONG)
    assert title == "Đảng viên, cán bộ, công chức"
    assert len(title) <= 31


def test_a_cut_that_falls_on_a_space_keeps_the_whole_last_word():
    assert sheet_title("Tỷ lệ hội viên trên dân số toàn xã phường") == "Tỷ lệ hội viên trên dân số toàn"


def test_a_short_name_is_kept_and_forbidden_characters_are_replaced():
    assert sheet_title("Kế hoạch 99/KH [2020]: tóm tắt?") == "Kế hoạch 99-KH -2020-- tóm tắt-"
    assert sheet_title("Ủng hộ") == "Ủng hộ"


def test_names_that_would_be_equal_after_the_cut_are_numbered_and_still_whole_words():
    first = sheet_title(LONG)
    second = sheet_title(LONG + " (bản 2)", taken=[first])
    assert second != first and len(second) <= 31
    assert second == "Đảng viên, cán bộ, công (2)"
    assert sheet_title("ủng hộ", taken=["Ủng hộ"]) == "ủng hộ (2)"  # Excel ignores case


def test_a_workbook_with_two_long_similar_names_opens_with_distinct_whole_word_names():
    output = io.BytesIO()
    write_workbook(output, [Sheet(LONG, ["A"], [[1]]), Sheet(LONG + " năm 2020", ["A"], [[2]])])
    names = load_workbook(io.BytesIO(output.getvalue())).sheetnames
    assert len(set(names)) == 2 and all(len(name) <= 31 for name in names)


def test_rates_are_stored_as_fractions_in_percent_format_and_years_without_grouping():
    output = io.BytesIO()
    write_workbook(
        output,
        [
            Sheet(
                "Tỷ lệ",
                ["Năm", "Tỷ lệ", "Số"],
                [[Plain(2020), Rate.of_percent(66.67), 1_500_000], [None, Rate(None), 0]],
            )
        ],
    )
    sheet = load_workbook(io.BytesIO(output.getvalue())).active
    year, rate, amount = sheet[2]
    assert year.value == 2020 and "," not in year.number_format and year.number_format == "0"
    assert abs(rate.value - 0.6667) < 1e-9 and rate.number_format == PERCENT_FORMAT
    # Shown as 66.67 %, with the two decimals the dashboards show, not rounded to 66.7 %.
    assert rate.number_format.endswith(".00%")
    assert amount.number_format == "#,##0"
    assert sheet["B3"].value is None
