"""A city leader opens the leadership dashboard, drills into a district and downloads the PDF report."""

import re

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_city_leader_drills_into_a_district_and_downloads_the_pdf_report(page, cast, tree, plan_data):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "leader_hanoi", cast.password)
    page.wait_for_url("**/")
    page.goto("/plans/dashboard/")
    assert page.get_by_test_id("breadcrumb").inner_text().strip() == "Thành phố Hà Nội"
    board = page.get_by_test_id("target-board_coverage")
    assert "3" in board.get_by_test_id("fraction").inner_text() and "5" in board.get_by_test_id("fraction").inner_text()
    # The charts were drawn by Chart.js (served by the app) without a script error.
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length >= 2")
    charts = page.evaluate("() => Object.keys(Chart.instances).length")
    assert errors == []
    # The branches below are not on the page until the target's drill-down is opened (issue 16).
    assert page.get_by_test_id("children-board_coverage").count() == 0

    board.get_by_test_id("drill-down-board_coverage").locator("summary").click()
    children = board.get_by_test_id("children-board_coverage")
    children.wait_for()
    # Their chart is drawn as they arrive.
    page.wait_for_function(f"() => Object.keys(Chart.instances).length > {charts}")
    children.get_by_role("link", name="Quận Ba Đình").click()
    page.wait_for_url(f"**/plans/dashboard/{tree.ba_dinh.pk}/")
    crumbs = page.get_by_test_id("breadcrumb")
    assert re.sub(r"\s+", " ", crumbs.inner_text()).strip().startswith("Thành phố Hà Nội")
    assert errors == []

    with page.expect_download() as download_info:
        page.get_by_test_id("export-pdf").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(download.path()).pages)
    assert "Báo cáo tiến độ thực hiện Kế hoạch 99/KH-KHHN" in text
    assert "Quận Ba Đình" in text and "Phường Phúc Xá" in text

    crumbs.get_by_role("link", name="Thành phố Hà Nội").click()
    page.wait_for_url(f"**/plans/dashboard/{tree.city.pk}/")


def test_opening_a_targets_branches_below_by_keyboard_shows_each_branch_with_its_figures(page, cast, tree, plan_data):
    sign_in(page, "leader_badinh", cast.password)
    page.wait_for_url("**/")
    page.goto("/plans/dashboard/")
    board = page.get_by_test_id("target-board_coverage")
    summary = board.get_by_test_id("drill-down-board_coverage").locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    children = board.get_by_test_id("children-board_coverage")
    children.wait_for()
    assert children.get_by_role("link", name="Phường Phúc Xá").is_visible()
    assert children.get_by_role("link", name="Phường Trúc Bạch").is_visible()
    phuc_xa = children.locator("tr", has=page.get_by_role("link", name="Phường Phúc Xá"))
    assert [cell.strip() for cell in phuc_xa.locator("td").all_inner_texts()[1:3]] == ["2", "3"]
