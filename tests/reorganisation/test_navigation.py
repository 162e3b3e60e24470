"""The way to the reorganisation pages: a menu entry for whoever manages the whole city, and
links between a branch's lineage and the reorganisation that made it."""

import datetime

import pytest
from django.urls import reverse

from associations.models import StaffRole
from reorganisation import services
from reorganisation.tables import PART, WHOLE, TableRow
from tests.factories import OrganizationFactory, StaffProfileFactory, UserFactory

REORGANISATION_LIST = reverse("reorganisation:list")


@pytest.fixture
def city_manager(tree):
    user = UserFactory(username="manager_hanoi")
    StaffProfileFactory(user=user, branch=tree.city, role=StaffRole.MANAGER)
    return user


def test_the_menu_offers_the_reorganisations_to_city_managers_and_administrators_only(client_for, cast, city_manager):
    for user in (city_manager, cast.admin):
        assert REORGANISATION_LIST in client_for(user).get("/").content.decode(), user
    for user in (cast.manager, cast.city_leader, cast.commune_clerk):
        assert REORGANISATION_LIST not in client_for(user).get("/").content.decode(), user


def _applied(tree, city_manager):
    pairs = [
        ("Phường Phúc Xá", "00001", "Phường Ba Đình", "00004", PART),
        ("Phường Phúc Xá", "00001", "Phường Hàng Bạc", "00061", PART),
        ("Phường Trúc Bạch", "00004", "Phường Ba Đình", "00004", WHOLE),
    ]
    rows = [
        TableRow(row=row, old_name=old, old_code=old_code, new_name=new, new_code=new_code, kind=kind)
        for row, (old, old_code, new, new_code, kind) in enumerate(pairs, start=3)
    ]
    reorganisation = services.reorganisation_create(
        actor=city_manager, name="Sắp xếp thử", legal_basis="", effective_on=datetime.date(2025, 7, 1), rows=rows
    )
    services.decisions_prepare(actor=city_manager, reorganisation=reorganisation)
    for branch in (tree.phuc_xa, tree.ba_dinh):
        services.unit_decide(actor=city_manager, reorganisation=reorganisation, branch=branch, successor_code="00004")
    assert services.reorganisation_apply(actor=city_manager, reorganisation=reorganisation).applied
    return reorganisation


def test_a_branchs_lineage_links_to_its_reorganisation_and_back_for_a_city_manager(
    client_for, tree, cast, city_manager
):
    OrganizationFactory(branch=tree.phuc_xa)
    reorganisation = _applied(tree, city_manager)
    detail = reverse("reorganisation:detail", args=[reorganisation.pk])
    old_ward = reverse("associations:branch_detail", args=[tree.phuc_xa.pk])

    page = client_for(city_manager).get(old_ward).content.decode()
    assert f'href="{detail}"' in page
    assert f'href="{old_ward}"' in client_for(city_manager).get(detail).content.decode()
    # The leader of the city reads the lineage, without a link to a page that is not hers.
    page = client_for(cast.city_leader).get(old_ward).content.decode()
    assert "Sắp xếp thử" in page and f'href="{detail}"' not in page
