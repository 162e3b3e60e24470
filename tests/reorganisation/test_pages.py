"""The reorganisation pages, as a manager of the city association uses them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from associations.models import Branch, Reorganisation, StaffRole
from tests.factories import StaffProfileFactory, UserFactory

TABLE = (
    "Tỉnh thành phố,Tên Xã mới,Mã Xã mới,Tên Xã cũ,Mã Xã cũ,Ghi chú\n"
    "Hà Nội,Phường Ba Đình,00004,Phường Phúc Xá,00001,Nhập một phần\n"
    "Hà Nội,Phường Hàng Bạc,00061,Phường Phúc Xá,00001,Nhập một phần\n"
    "Hà Nội,Phường Ba Đình,00004,Phường Trúc Bạch,00004,Nhập toàn bộ\n"
)


@pytest.fixture
def city_manager(tree):
    user = UserFactory(username="manager_hanoi")
    StaffProfileFactory(user=user, branch=tree.city, role=StaffRole.MANAGER)
    return user


def _upload(client, text=TABLE):
    return client.post(
        reverse("reorganisation:list"),
        {
            "name": "Sắp xếp thử",
            "legal_basis": "1656/NQ-UBTVQH15",
            "effective_on": "01/07/2025",
            "file": SimpleUploadedFile("bang.csv", text.encode()),
        },
    )


def test_a_city_manager_uploads_decides_and_applies(client_for, tree, cast, city_manager):
    client = client_for(city_manager)
    response = _upload(client)
    reorganisation = Reorganisation.objects.get()
    assert response.status_code == 302

    page = client.get(reverse("reorganisation:detail", args=[reorganisation.pk])).content.decode()
    assert "Phường Phúc Xá (00001)" in page
    assert "Trần Thị Lan" not in page  # accounts are listed by their user name
    assert "clerk_phucxa" in page  # the commune clerk's account needs a home

    for branch, code in ((tree.phuc_xa, "00061"), (tree.ba_dinh, "00004")):
        client.post(
            reverse("reorganisation:decide_unit", args=[reorganisation.pk]),
            {"branch": branch.pk, "successor_code": code, "account_action": "move"},
        )
    response = client.post(reverse("reorganisation:apply", args=[reorganisation.pk]), follow=True)

    assert "Đã áp dụng:" in response.content.decode()
    reorganisation.refresh_from_db()
    assert reorganisation.status == Reorganisation.Status.APPLIED
    cast.commune_clerk.staff_profile.refresh_from_db()
    assert cast.commune_clerk.staff_profile.branch_id == tree.hang_bac.pk
    assert Branch.objects.get(code="00004", founded_on__isnull=False).name == "Phường Ba Đình"


def test_applying_with_undecided_items_names_them_and_changes_nothing(client_for, tree, cast, city_manager):
    client = client_for(city_manager)
    _upload(client)
    reorganisation = Reorganisation.objects.get()

    response = client.post(reverse("reorganisation:apply", args=[reorganisation.pk]), follow=True)

    assert "Chưa áp dụng gì" in response.content.decode()
    assert "clerk_phucxa" in response.content.decode()
    reorganisation.refresh_from_db()
    assert reorganisation.status == Reorganisation.Status.DRAFT


def test_a_bad_table_is_refused_on_the_form(client_for, tree, city_manager):
    client = client_for(city_manager)
    response = _upload(client, TABLE.replace("Nhập toàn bộ", "Giữ nguyên"))
    assert response.status_code == 200
    assert "Dòng 4: ghi chú" in response.content.decode()
    assert not Reorganisation.objects.exists()


def test_a_district_manager_may_not_reorganise(client_for, cast):
    client = client_for(cast.manager)
    assert client.get(reverse("reorganisation:list")).status_code == 403
