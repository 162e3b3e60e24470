"""What clerks notice in forms (issue 15, items 1–3), in a real browser: a branch picked by
typing part of its name without accents, a form sent again by Back that creates nothing, and
a workbook whose row has three errors, all named at once and given back marked."""

import re

import pytest
from openpyxl import Workbook, load_workbook

from associations.models import Member
from tests.e2e.conftest import sign_in
from tests.e2e.test_accessibility import BLOCKING, _violations

MEMBER_PAGE = re.compile(r"/registry/members/\d+/$")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def fill_member(page, name: str) -> None:
    page.locator("#id_full_name").fill(name)
    page.locator("#id_date_of_birth").fill("05091990")  # a phone's number pad has no "/"
    page.locator("#id_category").select_option(value="public_employee")
    page.locator("#id_joined_on").fill("01/03/2019")


def test_a_manager_picks_a_branch_by_typing_part_of_its_name_without_accents(page, cast, tree):
    sign_in(page, "manager_badinh", cast.password)
    page.wait_for_url("**/")
    page.goto("/registry/members/add/")
    fill_member(page, "Nguyễn Thị Ánh Dương")

    picker = page.get_by_role("combobox", name="Đơn vị hội")
    results = page.get_by_role("listbox")
    picker.fill("phuong")
    results.get_by_role("option", name="Phường Trúc Bạch").wait_for()
    offered = results.get_by_role("option").all_inner_texts()
    assert not any("Hàng Bạc" in text for text in offered)  # another district's ward is not offered
    picker.fill("phuc xa")
    option = results.get_by_role("option", name="Phường Phúc Xá")
    assert "Quận Ba Đình › Phường Phúc Xá" in option.inner_text()
    results.get_by_role("option").nth(1).wait_for(state="detached")
    option.click()
    assert picker.input_value() == "Phường Phúc Xá"

    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(MEMBER_PAGE)  # "*/" would match the form's own "add/"
    member = Member.objects.get()
    assert member.branch == tree.phuc_xa
    assert member.date_of_birth.isoformat() == "1990-09-05"


def test_back_and_save_again_finds_the_saved_member_and_creates_nothing(page, cast, tree):
    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")
    page.goto("/registry/members/add/")
    fill_member(page, "Lê Văn Bảo")
    page.locator("#id_branch").select_option(label="— — Phường Phúc Xá")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(MEMBER_PAGE)  # "*/" would match the form's own "add/"
    saved = Member.objects.get()

    page.go_back()
    page.wait_for_url("**/registry/members/add/")
    if page.locator("#id_full_name").input_value() != "Lê Văn Bảo":
        fill_member(page, "Lê Văn Bảo")  # the browser did not keep what was typed: type it again
        page.locator("#id_branch").select_option(label="— — Phường Phúc Xá")
    page.get_by_role("button", name="Lưu").click()

    assert (
        page.get_by_role("heading", name="Biểu mẫu này đã được lưu").is_visible()
        or page.get_by_role("heading", name="This form was already saved").is_visible()
    )
    page.get_by_test_id("saved-record").click()
    page.wait_for_url(f"**/registry/members/{saved.pk}/")
    assert Member.objects.count() == 1


def test_a_row_with_three_errors_shows_all_three_and_offers_the_marked_workbook(
    page, cast, tree, eager, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Hội viên"
    sheet.append(["Họ và tên", "Ngày sinh", "Đối tượng", "Đơn vị hội (mã hoặc tên)", "Ngày vào hội"])
    sheet.append(["Trần Thị Bình", "31/02/1990", "Bác sĩ", "99999", "01/03/2018"])
    path = tmp_path / "hoi-vien.xlsx"
    workbook.save(path)

    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")
    page.goto("/imports/members/new/")
    page.get_by_test_id("import-upload-form").locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Tải lên và kiểm tra").click()
    page.wait_for_url("**/imports/*/")

    errors = page.get_by_test_id("import-errors")
    text = errors.inner_text()
    for column in ("Ngày sinh", "Đối tượng", "Đơn vị hội (mã hoặc tên)"):
        assert column in text
    assert errors.locator("tbody tr").count() == 3

    with page.expect_download() as download_info:
        page.get_by_test_id("import-annotated").click()
    download = download_info.value
    assert download.suggested_filename == "hoi-vien-loi.xlsx"
    with open(download.path(), "rb") as file:
        marked = load_workbook(file).active
    note = marked.cell(row=2, column=6).value
    assert "Ngày sinh" in note and "Đối tượng" in note and "Đơn vị hội" in note
    assert marked.cell(row=2, column=2).fill.fgColor.rgb.endswith("F4CCCC")


@pytest.mark.slow
def test_the_error_summary_and_an_open_picker_have_no_serious_accessibility_violation(browser, live_server, cast, tree):
    # axe is injected as an inline script, which the policy rightly forbids: bypass it here.
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, "manager_badinh", cast.password)
    page.wait_for_url("**/")
    page.goto("/registry/members/add/")
    page.get_by_role("button", name="Lưu").click()  # nothing typed: the server names the errors
    summary = page.get_by_test_id("form-errors")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "form-errors"
    picker = page.get_by_role("combobox", name="Đơn vị hội")
    picker.fill("phuong")
    page.get_by_role("listbox").get_by_role("option", name="Phường Phúc Xá").wait_for()
    violations = _violations(page)
    context.close()
    assert [v for v in violations if v["impact"] in BLOCKING] == []
