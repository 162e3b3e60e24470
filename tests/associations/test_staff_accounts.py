import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from associations.models import AuditEntry, StaffProfile

pytestmark = pytest.mark.django_db

LIST = reverse("associations:staff_list")
ADD = reverse("associations:staff_create")


def test_a_manager_creates_a_clerk_account_in_their_subtree_who_can_then_sign_in(client, client_for, cast, tree):
    response = client_for(cast.manager).post(
        ADD,
        {
            "username": "canbo.trucbach",
            "full_name": "Hoàng Thị Mai",
            "email": "mai@example.vn",
            "branch": tree.truc_bach.pk,
            "role": "clerk",
            "password": "Truc-Bach-2025!",
        },
    )
    assert response.status_code == 302
    profile = StaffProfile.objects.get(user__username="canbo.trucbach")
    assert profile.branch == tree.truc_bach
    assert profile.user.get_full_name() == "Thị Mai Hoàng" or profile.user.last_name == "Hoàng"
    assert AuditEntry.objects.filter(action="create", object_id=str(profile.pk)).exists()
    client.logout()
    assert client.login(username="canbo.trucbach", password="Truc-Bach-2025!")


def test_the_manager_sees_only_the_accounts_of_their_subtree(client_for, cast, tree):
    html = client_for(cast.manager).get(LIST).content.decode()
    assert "clerk_phucxa" in html and "leader_badinh" in html
    assert "clerk_hoankiem" not in html
    assert "leader_hanoi" not in html


def test_a_manager_cannot_place_an_account_outside_their_subtree(client_for, cast, tree):
    response = client_for(cast.manager).post(
        ADD,
        {
            "username": "x.y",
            "full_name": "X Y",
            "branch": tree.hang_bac.pk,
            "role": "clerk",
            "password": "Mot-mat-khau-dai-2025",
        },
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="x.y").exists()
    outsider = StaffProfile.objects.get(user=cast.sibling_clerk)
    assert client_for(cast.manager).get(reverse("associations:staff_update", args=[outsider.pk])).status_code == 404


def test_a_weak_password_is_refused(client_for, cast, tree):
    response = client_for(cast.manager).post(
        ADD, {"username": "x.y", "full_name": "X Y", "branch": tree.phuc_xa.pk, "role": "clerk", "password": "12345678"}
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="x.y").exists()


def test_switching_an_account_off_stops_its_sign_in_and_is_recorded(client, client_for, cast, tree):
    profile = StaffProfile.objects.get(user=cast.commune_clerk)
    response = client_for(cast.manager).post(
        reverse("associations:staff_update", args=[profile.pk]), {"branch": tree.phuc_xa.pk, "role": "clerk"}
    )
    assert response.status_code == 302
    cast.commune_clerk.refresh_from_db()
    assert cast.commune_clerk.is_active is False
    client.logout()
    assert not client.login(username="clerk_phucxa", password=cast.password)
    assert AuditEntry.objects.filter(action="update", object_id=str(profile.pk)).exists()


@pytest.mark.parametrize("who", ["commune_clerk", "district_leader", "city_leader"])
def test_only_managers_manage_accounts(client_for, cast, tree, who):
    client = client_for(getattr(cast, who))
    assert client.get(LIST).status_code == 403
    assert client.get(ADD).status_code == 403
