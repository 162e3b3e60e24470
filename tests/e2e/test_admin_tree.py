"""The admin's branch tree (issue 15 item 10): at a laptop's 1366 px every column lies beside
the filter panel, none under it; on a narrower screen the table scrolls inside its own column."""

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _boxes(page):
    return (
        page.locator("#result_list").bounding_box(),
        page.locator("#changelist .results").bounding_box(),
        page.locator("#changelist-filter").bounding_box(),
    )


def test_at_1366_px_the_branch_tree_ends_before_the_filter_panel(page, cast, tree):
    page.set_viewport_size({"width": 1366, "height": 800})
    sign_in(page, "admin", cast.password)
    page.goto("/admin/associations/branch/")
    table, _results, panel = _boxes(page)
    assert table["x"] + table["width"] <= panel["x"] + 1
    assert page.get_by_role("columnheader", name="Ngày giải thể").is_visible()
    assert "First child of" not in page.content()


def test_on_a_narrow_screen_the_tree_scrolls_in_its_column_instead_of_under_the_panel(page, cast, tree):
    page.set_viewport_size({"width": 1024, "height": 800})
    sign_in(page, "admin", cast.password)
    page.goto("/admin/associations/branch/")
    _table, results, panel = _boxes(page)
    assert results["x"] + results["width"] <= panel["x"] + 1
    overflow = page.evaluate("getComputedStyle(document.querySelector('#changelist .results')).overflowX")
    assert overflow == "auto"
