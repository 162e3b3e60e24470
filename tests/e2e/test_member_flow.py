import re

import pytest

from associations.models import Member
from tests.e2e.conftest import sign_in

MEMBER_PAGE = re.compile(r"/registry/members/\d+/$")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_clerk_adds_a_member_through_the_form_and_finds_them_in_the_list(page, cast, tree):
    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")
    page.get_by_role("link", name="Hội viên", exact=True).click()
    page.get_by_role("link", name="Thêm hội viên").click()

    page.locator("#id_full_name").fill("Nguyễn Thị Ánh Dương")
    page.locator("#id_date_of_birth").fill("05/09/1990")
    page.locator("#id_gender").select_option(value="female")
    page.locator("#id_citizen_id").fill("001190054321")
    page.locator("#id_category").select_option(value="public_employee")
    page.locator("#id_branch").select_option(label="— — Phường Phúc Xá")
    page.locator("#id_joined_on").fill("01/03/2019")
    page.get_by_role("button", name="Lưu").click()

    page.wait_for_url(MEMBER_PAGE)  # "*/" would match the form's own "add/"
    assert page.get_by_role("heading", name="Nguyễn Thị Ánh Dương").is_visible()
    assert Member.objects.get().branch == tree.phuc_xa

    page.get_by_role("link", name="Hội viên", exact=True).click()
    page.locator("#id_q").fill("nguyen thi anh duong")
    page.get_by_role("button", name="Lọc").click()
    table = page.get_by_test_id("member-table")
    assert table.get_by_role("link", name="Nguyễn Thị Ánh Dương").is_visible()
    assert "05/09/1990" in table.inner_text()
