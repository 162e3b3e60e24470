"""A manager of the city association reorganises part of the map in the browser: uploads a
conversion table in the official columns where one old ward is split between two new ones,
reads the dry run, gives the split ward's two organisations their homes on the page, applies,
and finds the old ward's page read-only with where it went."""

import pytest

from associations.models import BranchLevel, DivisionType, Reorganisation, StaffRole
from tests.e2e.conftest import sign_in
from tests.factories import OrganizationFactory, StaffProfileFactory, UserFactory, make_branch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "e2e-reorganise-2025"

# The official layout (reorganisation/tables.py): two header rows, then new name, new code,
# old name, old code and the note "Nhập toàn bộ" (whole) / "Nhập một phần" (part).
TABLE = (
    "Đơn vị hành chính từ ngày 01/7/2025,,,Đơn vị hành chính trước ngày 01/7/2025,,,,,\n"
    '"Tỉnh, thành phố",Tên Xã mới,Mã Xã mới,Tên Xã cũ,Mã Xã cũ,Ghi chú,Quận/huyện,Tỉnh cũ,\n'
    "Thành phố Hà Nội (01),Phường Ba Đình,00004,Phường Trúc Bạch,00004,Nhập toàn bộ,Quận Ba Đình (001),,\n"
    "Thành phố Hà Nội (01),Phường Ba Đình,00004,Phường Phúc Xá,00001,Nhập một phần,Quận Ba Đình (001),,\n"
    "Thành phố Hà Nội (01),Phường Hàng Bạc,00061,Phường Phúc Xá,00001,Nhập một phần,Quận Ba Đình (001),,\n"
)


def test_a_manager_uploads_a_split_decides_it_on_the_page_applies_and_the_old_ward_is_history(page, tree):
    # A ward of Ba Đình outside the table keeps the district in force.
    make_branch("Phường Ngọc Hà", BranchLevel.COMMUNE, tree.ba_dinh, code="00016", division_type=DivisionType.WARD)
    school = OrganizationFactory(branch=tree.phuc_xa, name="Trường Tiểu học Phúc Xá")
    cooperative = OrganizationFactory(branch=tree.phuc_xa, name="Hợp tác xã Phúc Xá")
    manager = UserFactory(username="quanly_thanhpho")
    manager.set_password(PASSWORD)
    manager.save()
    StaffProfileFactory(user=manager, branch=tree.city, role=StaffRole.MANAGER)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, "quanly_thanhpho", PASSWORD)
    page.wait_for_url("**/")
    page.get_by_role("button", name="Danh mục").click()  # the Registry menu
    page.get_by_role("link", name="Các đợt sắp xếp đơn vị hành chính").click()
    page.wait_for_url("**/reorganisation/")

    form = page.get_by_test_id("reorganisation-upload-form")
    form.locator("[name=name]").fill("Sắp xếp thử nghiệm")
    form.locator("[name=legal_basis]").fill("1656/NQ-UBTVQH15")
    form.locator("[name=effective_on]").fill("01/07/2025")
    form.locator("[name=file]").set_input_files(
        {"name": "bang-chuyen-doi.csv", "mimeType": "text/csv", "buffer": TABLE.encode()}
    )
    form.get_by_role("button", name="Tải lên và xem chạy thử").click()
    page.wait_for_url("**/reorganisation/*/")

    # The dry run: two old wards dissolved, one new ward founded, Phúc Xá split.
    assert "2" in page.get_by_test_id("reorganisation-totals").inner_text()
    units = page.get_by_test_id("reorganisation-units").inner_text()
    assert "Phường Phúc Xá (00001)" in units and "Phường Trúc Bạch (00004)" in units
    assert "Phường Hàng Bạc (00061)" in units
    apply_button = page.get_by_test_id("reorganisation-apply-form").get_by_role("button")
    assert apply_button.is_disabled(), "two items have no home yet"

    for organisation, code in ((school, "00004"), (cooperative, "00061")):
        row = page.locator("tr", has_text=organisation.name)
        row.locator("[name=successor_code]").fill(code)
        row.get_by_role("button", name="Lưu").click()
        page.wait_for_load_state()
        assert page.locator("tr", has_text=organisation.name).count() == 0
    assert "0" in page.get_by_test_id("reorganisation-undecided").inner_text()

    page.get_by_test_id("reorganisation-apply-form").get_by_role("button").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("reorganisation-status").inner_text() == str(Reorganisation.Status.APPLIED.label)
    edges = page.get_by_test_id("reorganisation-edges")
    assert "Phường Phúc Xá" in edges.inner_text()

    # From the reorganisation's lineage to the old ward's page: read-only, with where it went.
    edges.get_by_role("link", name="Phường Phúc Xá").first.click()
    page.wait_for_url(f"**/registry/branches/{tree.phuc_xa.pk}/")
    assert page.get_by_test_id("branch-read-only").is_visible()
    lineage = page.get_by_test_id("branch-lineage")
    assert "Chuyển thành" in lineage.inner_text()  # "Went to"
    assert "Phường Ba Đình" in lineage.inner_text() and "Phường Hàng Bạc" in lineage.inner_text()
    assert lineage.get_by_role("link", name="Sắp xếp thử nghiệm").first.is_visible()
    assert page.get_by_role("link", name="Sửa").count() == 0, "a dissolved ward cannot be edited"
    assert errors == []
