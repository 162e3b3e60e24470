"""The dashboard's PDF report (issue 15 item 9): names too long for their cell end with "…",
no value label crosses the target line, and no page holds a lone row or heading."""

import io
import re

import pytest
from django.utils import translation
from pypdf import PdfReader

from associations.models import BranchLevel
from plans.exports import (
    ELLIPSIS,
    MIN_ROWS,
    _Report,
    _table,
    dashboard_pdf,
    fit_text,
    value_label_x,
)
from plans.selectors import dashboard_for
from plans.services import indicators_recompute_all
from tests.conftest import TODAY
from tests.factories import make_branch, org_with_board

LONG = "Phường Thượng Thanh, nơi sáp nhập ba phường Đức Giang, Việt Hưng và Gia Thụy thuộc quận Long Biên"


def report() -> _Report:
    pdf = _Report("Báo cáo")
    pdf.add_page()
    pdf.set_font("DejaVu", "", 8)
    return pdf


def pages_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_a_name_too_long_for_its_cell_is_cut_at_a_word_and_ends_with_an_ellipsis():
    pdf = report()
    shown = fit_text(pdf, LONG, 58)
    assert shown.endswith(ELLIPSIS)
    assert pdf.get_string_width(shown) <= 58
    kept = shown.removesuffix(ELLIPSIS)
    assert LONG.startswith(kept) and not LONG[len(kept)].isalnum(), f"{shown!r} cuts a word"
    assert len(kept) > 20


def test_a_name_that_fits_is_left_whole_and_a_single_long_word_is_cut_inside():
    pdf = report()
    assert fit_text(pdf, "Phường Phúc Xá", 58) == "Phường Phúc Xá"
    word = "Khuyếnhọckhuyếntàixâydựngxãhộihọctập"
    shown = fit_text(pdf, word, 20)
    assert shown.endswith(ELLIPSIS) and word.startswith(shown[:-1]) and pdf.get_string_width(shown) <= 20


def test_a_value_label_that_would_cross_the_target_line_is_moved_past_it():
    line_x = 141.5  # the 70 % line of a chart starting at 75 mm, 95 mm wide
    assert value_label_x(130.0, 15.0, line_x) == pytest.approx(line_x + 1)  # 130–145 would cross it
    assert value_label_x(100.0, 15.0, line_x) == 100.0  # ends well before the line
    assert value_label_x(150.0, 15.0, line_x) == 150.0  # the bar is past the line already


def rows_per_page(start_y: float, count: int) -> list[int]:
    pdf = report()
    pdf.set_y(start_y)
    rows = [(f"Hàng-{n:03d}", "1", "2") for n in range(count)]
    _table(pdf, (62, 22, 22), ("Đơn vị", "Đếm", "Trên"), rows, left_aligned={0})
    return [len(re.findall(r"Hàng-\d{3}", text)) for text in pages_text(bytes(pdf.output()))]


@pytest.mark.parametrize("count", [1, 2, 5, 47, 50])
@pytest.mark.parametrize("start_y", [20, 150, 240, 262, 268, 272, 276])
def test_a_table_never_leaves_fewer_than_three_rows_on_a_page(start_y, count):
    pages = rows_per_page(start_y, count)
    assert sum(pages) == count
    drawn = [n for n in pages if n]
    assert all(n >= min(MIN_ROWS, count) for n in drawn), pages
    assert pages[-1] > 0, "the last page holds no row"
    assert all(n > 0 for n in pages[1:]), "a page after the first holds only a table header"


@pytest.mark.django_db
def test_the_report_of_a_district_with_many_communes_cuts_long_names_and_ends_on_a_full_page(tree, plan_data):
    communes = [make_branch(f"Phường Thử {n:02d}", BranchLevel.COMMUNE, tree.ba_dinh) for n in range(38)]
    long_one = make_branch(LONG, BranchLevel.COMMUNE, tree.ba_dinh)
    for branch in [*communes[:10], long_one]:
        org_with_board(branch)
    indicators_recompute_all(today=TODAY)
    with translation.override("vi"):
        pages = pages_text(dashboard_pdf(dashboard_for(tree.ba_dinh)))
    text = "\n".join(pages)
    assert LONG not in text.replace("\n", " ")
    cut = re.search(r"Phường Thượng Thanh[^\n…]*…", text)
    assert cut, "the long name is not shortened with …"
    assert LONG.startswith(cut.group(0)[:-1].rstrip())
    # The last page carries rows of a table (each commune is a row), not a heading or one row.
    last = pages[-1]
    assert len(re.findall(r"Phường Thử \d{2}", last)) >= MIN_ROWS, last
    for page in pages[1:]:  # a chart or a table runs onto each of them with at least three rows
        assert len(re.findall(r"Phường Thử \d{2}", page)) >= MIN_ROWS, page
