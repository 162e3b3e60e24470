"""The registrations list sorts by its whitelisted columns (issue 15 item 7)."""

import pytest
from django.urls import reverse

from learning.services import registrations_create
from learning.views.cycle import REGISTRATION_SORTS
from tests.learning.factories import REGISTERED_ON, YEAR, HouseholdFactory, make_title

pytestmark = pytest.mark.django_db


def test_registrations_sort_by_subject_in_vietnamese_order_and_ignore_unknown_keys(client_for, cast, tree):
    kind, _criteria_set = make_title()
    households = [
        HouseholdFactory(branch=tree.phuc_xa, head_name=name) for name in ("Vũ Văn Sơn", "Đỗ Thị Mai", "Dương Văn Tú")
    ]
    registrations_create(
        actor=cast.commune_clerk, kind=kind, year=YEAR, subjects=households, registered_on=REGISTERED_ON
    )
    client = client_for(cast.commune_clerk)

    def order(**query) -> list[str]:
        html = client.get(reverse("learning:registration_list"), {"kind": kind.pk, "year": YEAR, **query})
        assert html.status_code == 200
        page = html.content.decode()
        return sorted(("Dương Văn Tú", "Đỗ Thị Mai", "Vũ Văn Sơn"), key=page.index)

    assert order(sort="subject") == ["Dương Văn Tú", "Đỗ Thị Mai", "Vũ Văn Sơn"]  # D before Đ
    assert order(sort="-subject") == ["Vũ Văn Sơn", "Đỗ Thị Mai", "Dương Văn Tú"]
    assert order(sort="points; drop") == order()  # an unknown key keeps the list's own order
    for key in REGISTRATION_SORTS:
        assert client.get(reverse("learning:registration_list"), {"sort": key}).status_code == 200
