"""The admin in Vietnamese throughout (issue 15 item 10): Django's newer strings, treebeard's
move form and django-axes' names come from the portal's own catalogue."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_admin_index_has_no_english_headers_or_axes_names(client_for, cast):
    html = client_for(cast.admin).get(reverse("admin:index")).content.decode()
    for english in ("Model name", "Add link", "Change or view list link", "Access attempts", "Axes"):
        assert english not in html, english
    assert "Loại dữ liệu" in html
    assert "Bảo vệ đăng nhập" in html
    assert "Các lần thử đăng nhập" in html


def test_treebeards_move_form_speaks_vietnamese(client_for, cast, tree):
    html = (
        client_for(cast.admin).get(reverse("admin:associations_branch_change", args=[tree.phuc_xa.pk])).content.decode()
    )
    for english in ("First child of", "Relative to", ">Position", "Sibling of"):
        assert english not in html, english
    assert "Vị trí" in html and "Đơn vị con đầu tiên của" in html and "So với" in html


def test_the_access_attempts_list_is_named_in_vietnamese(client_for, cast):
    html = client_for(cast.admin).get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "Access attempt" not in html and "IP Address" not in html
    assert "lần thử đăng nhập" in html


def test_the_admin_is_named_as_the_portals_not_djangos(client_for, cast):
    html = client_for(cast.admin).get(reverse("admin:index")).content.decode()
    assert "Django" not in html
    assert "Cổng thông tin Khuyến học" in html
