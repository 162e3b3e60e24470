"""The top menu on a laptop screen (1 280 px, and 1 366 px), in Vietnamese and English, for the
account that sees the most entries (the city's administrator): one row, nothing wrapped,
every entry visible, and the sections still reachable (the dashboards in one click)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _rows(page) -> dict:
    return page.evaluate(
        """() => {
            const nav = document.querySelector("#main-nav");
            const items = [...nav.querySelectorAll(":scope > ul > li > .nav-link")];
            const tops = new Set(items.map(e => Math.round(e.getBoundingClientRect().top)));
            const texts = [...nav.querySelectorAll(":scope > ul > li > .nav-link")].map(e => e.innerText.trim());
            const wrapped = texts.filter((t, i) => {
                const e = nav.querySelectorAll(":scope > ul > li > .nav-link")[i];
                return e.getClientRects().length > 1 || e.getBoundingClientRect().height > 48;
            });
            return {rows: tops.size, height: document.querySelector("nav.navbar").getBoundingClientRect().height,
                    texts, wrapped, overflow: document.documentElement.scrollWidth > window.innerWidth};
        }"""
    )


@pytest.mark.parametrize("width", [1280, 1366])
def test_the_top_menu_of_the_administrator_fits_one_row_on_a_laptop_in_both_languages(
    browser, live_server, cast, width, tmp_path
):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    cast.admin.last_name, cast.admin.first_name = "Nguyễn Thị Phương", "Thảo"  # a long name, top right
    cast.admin.save(update_fields=["last_name", "first_name"])
    try:
        sign_in(page, cast.admin.username, PASSWORD)
        for language in ("vi", "en"):
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
            page.goto("/")
            assert page.locator("html").get_attribute("lang") == language
            shown = _rows(page)
            page.screenshot(path=tmp_path / f"nav-{language}-{width}.png")  # kept by pytest for a look
            assert shown["rows"] == 1, f"{language} at {width}px: the menu takes {shown['rows']} rows: {shown}"
            assert shown["height"] < 70, shown
            assert not shown["wrapped"] and not shown["overflow"], shown
            assert len(shown["texts"]) >= 10, shown  # the sections and the user menu
        # The leaders' dashboards stay one click from every page.
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "vi", "url": live_server.url}])
        page.goto("/")
        page.get_by_label("Thanh điều hướng chính").get_by_role("link", name="Tiến độ kế hoạch").click()
        page.wait_for_url("**/plans/dashboard/**")
    finally:
        context.close()


def test_the_user_menu_switches_the_language_and_signs_out(page, cast):
    sign_in(page, cast.admin.username, PASSWORD)
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")
