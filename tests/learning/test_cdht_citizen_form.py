"""A clerk enters a citizen's household, clan and village on her form: those of her ward are
listed; one from another district is refused, even when posted by hand."""

from __future__ import annotations

from django.urls import reverse

from learning.models import Citizen
from tests.learning.factories import ClanFactory, CommunityFactory, HouseholdFactory

CREATE = reverse("learning:citizen_create")


def form(branch, **links) -> dict:
    return {"full_name": "Phạm Thị Hoa", "date_of_birth": "", "citizen_id": "", "branch": branch.pk, **links}


def test_a_clerk_links_a_citizen_to_her_household_clan_and_village(client_for, cast, tree):
    household = HouseholdFactory(branch=tree.phuc_xa, head_name="Phạm Văn Hùng")
    clan = ClanFactory(branch=tree.phuc_xa, name="Dòng họ Phạm Phúc Xá")
    village = CommunityFactory(branch=tree.phuc_xa, name="Tổ dân phố số 3")
    HouseholdFactory(branch=tree.truc_bach, head_name="Hộ Trúc Bạch")
    client = client_for(cast.commune_clerk)

    page = client.get(CREATE).content.decode()
    assert "Phạm Văn Hùng" in page and "Tổ dân phố số 3" in page
    assert "Hộ Trúc Bạch" not in page  # another ward's households are not listed

    response = client.post(CREATE, form(tree.phuc_xa, household=household.pk, clan=clan.pk, community=village.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    citizen = Citizen.objects.get()
    assert (citizen.household, citizen.clan, citizen.community) == (household, clan, village)
    detail = client.get(reverse("learning:citizen_detail", args=[citizen.pk])).content.decode()
    assert "Phạm Văn Hùng" in detail and "Tổ dân phố số 3" in detail


def test_a_household_of_another_district_is_refused(client_for, cast, tree):
    elsewhere = HouseholdFactory(branch=tree.hang_bac)
    response = client_for(cast.commune_clerk).post(CREATE, form(tree.phuc_xa, household=elsewhere.pk))
    assert response.status_code == 200
    assert not Citizen.objects.exists()
