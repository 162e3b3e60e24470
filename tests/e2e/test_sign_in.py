import pytest

from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_clerk_signs_in_through_the_login_page_and_sees_the_home_page_in_vietnamese(page, cast):
    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_test_id("home-branch").inner_text() == "Phường Phúc Xá"
    assert page.get_by_test_id("home-role").inner_text() == "Cán bộ nhập liệu"
    page.get_by_test_id("user-menu").click()  # her name, top right: the language and signing out
    assert page.get_by_role("button", name="Đăng xuất").is_visible()


def test_a_wrong_password_is_refused_with_a_message_in_vietnamese(page, cast):
    sign_in(page, "clerk_phucxa", "not-the-password")
    assert "/accounts/login/" in page.url
    assert page.get_by_text("Tên đăng nhập hoặc mật khẩu không đúng").is_visible()
