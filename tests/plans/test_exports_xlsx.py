"""The dashboard's .xlsx (issue 15 item 9): rates in percent format, counts grouped, sheet
names cut at whole words."""

import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def workbook(client_for, cast, tree, plan_data):
    response = client_for(cast.district_leader).get(
        f"/plans/dashboard/{tree.ba_dinh.pk}/plan/{plan_data.plan.pk}/report.xlsx"
    )
    assert response.status_code == 200
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_a_branchs_rate_is_its_fraction_in_percent_format(workbook):
    rows = {row[0].value: row for row in workbook.worksheets[0].iter_rows() if row and row[0].value}
    _branch, counted, out_of, rate = rows["Phường Phúc Xá"][:4]
    assert (counted.value, out_of.value) == (2, 3)
    assert "%" in rate.number_format
    assert rate.value == pytest.approx(2 / 3, abs=0.0001)
    assert counted.number_format == "#,##0"


def test_the_year_table_shows_milestones_as_percentages_and_years_plain(workbook, plan_data):
    sheet = workbook.worksheets[0]
    years = [row for row in sheet.iter_rows() if isinstance(row[0].value, int) and 2000 < row[0].value < 2100]
    assert years, "the year table is missing"
    for row in years:
        assert row[0].number_format == "0"
        milestone = row[1]
        if milestone.value is not None:
            assert "%" in milestone.number_format and 0 <= milestone.value <= 1


def test_every_sheet_name_is_a_whole_word_start_of_its_targets_name(workbook, plan_data):
    targets = [plan_data.board, plan_data.membership]
    full_names = [f"{index}. {target.indicator_name}" for index, target in enumerate(targets, start=1)]
    assert any(len(name) > 31 for name in full_names), "the test needs a name longer than Excel allows"
    for name, full in zip(workbook.sheetnames, full_names, strict=True):
        assert len(name) <= 31
        assert full.startswith(name)
        assert len(name) == len(full) or not full[len(name)].isalnum(), f"{name!r} cuts a word of {full!r}"
