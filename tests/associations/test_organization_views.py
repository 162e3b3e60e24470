import datetime

import pytest
from django.urls import reverse

from associations.models import AuditEntry, Branch, BranchLevel, Organization, OrganizationHeadcount
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("associations:organization_list")
ADD = reverse("associations:organization_create")


def test_a_district_leader_sees_organisations_of_the_district_only(client_for, cast, tree):
    OrganizationFactory(name="UBND phường Phúc Xá", branch=tree.phuc_xa)
    OrganizationFactory(name="UBND phường Hàng Bạc", branch=tree.hang_bac)
    html = client_for(cast.district_leader).get(LIST).content.decode()
    assert "UBND phường Phúc Xá" in html
    assert "UBND phường Hàng Bạc" not in html


def test_an_organisation_of_another_district_answers_404(client_for, cast, tree):
    outsider = OrganizationFactory(branch=tree.hang_bac)
    client = client_for(cast.commune_clerk)
    assert client.get(reverse("associations:organization_detail", args=[outsider.pk])).status_code == 404
    assert client.get(reverse("associations:organization_update", args=[outsider.pk])).status_code == 404
    response = client.post(reverse("associations:organization_headcount", args=[outsider.pk]), {"year": 2017})
    assert response.status_code == 404


def test_a_clerk_adds_an_organisation_and_reports_its_headcount(client_for, cast, tree):
    client = client_for(cast.commune_clerk)
    response = client.post(
        ADD,
        {
            "name": "Trường THCS Phúc Xá",
            "kind": "public_service",
            "branch": tree.phuc_xa.pk,
            "active_from": "01/09/2000",
        },
    )
    organization = Organization.objects.get()
    assert response.status_code == 302
    assert organization.active_from == datetime.date(2000, 9, 1)
    counts = {"party_members": 12, "cadres": 3, "civil_servants": 0, "public_employees": 40, "workers": 5}
    response = client.post(
        reverse("associations:organization_headcount", args=[organization.pk]), {"year": 2017, **counts}
    )
    assert response.status_code == 302
    headcount = OrganizationHeadcount.objects.get()
    assert headcount.total == 60
    # Reporting the same year again corrects it, with history.
    client.post(
        reverse("associations:organization_headcount", args=[organization.pk]), {"year": 2017, **counts, "workers": 8}
    )
    headcount.refresh_from_db()
    assert headcount.workers == 8
    assert OrganizationHeadcount.objects.count() == 1
    assert AuditEntry.objects.filter(object_id=str(organization.pk)).count() == 3


def test_a_leader_may_not_add_organisations(client_for, cast, tree):
    client = client_for(cast.city_leader)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"name": "X", "kind": "agency", "branch": tree.phuc_xa.pk}).status_code == 403
    assert Organization.objects.count() == 0


def test_a_board_established_in_an_organisation_is_listed_on_its_page(client_for, cast, tree):
    organization = OrganizationFactory(name="Công an phường Phúc Xá", kind="armed_forces", branch=tree.phuc_xa)
    client = client_for(cast.commune_clerk)
    response = client.post(
        reverse("associations:branch_create", args=[tree.phuc_xa.pk]),
        {
            "name": "Ban khuyến học Công an phường",
            "level": "board",
            "organization": organization.pk,
            "founded_on": "15/05/2018",
        },
    )
    assert response.status_code == 302
    board = Branch.objects.get(level=BranchLevel.BOARD)
    assert Branch.objects.get_parent(board) == tree.phuc_xa
    html = client.get(reverse("associations:organization_detail", args=[organization.pk])).content.decode()
    assert "Ban khuyến học Công an phường" in html
    assert "15/05/2018" in html


def test_a_board_needs_its_organisation(client_for, cast, tree):
    response = client_for(cast.commune_clerk).post(
        reverse("associations:branch_create", args=[tree.phuc_xa.pk]), {"name": "Ban không cơ quan", "level": "board"}
    )
    assert response.status_code == 200
    assert Branch.objects.filter(level=BranchLevel.BOARD).count() == 0
