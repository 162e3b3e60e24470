import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_leader_starts_on_the_plan_dashboard(client_for, cast):
    response = client_for(cast.city_leader).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:dashboard")


@pytest.mark.parametrize("who", ["commune_clerk", "manager"])
def test_clerks_and_managers_start_on_the_home_page_with_their_branch(client_for, cast, who):
    response = client_for(getattr(cast, who)).get("/")
    assert response.status_code == 200
    assert response.context["staff_profile"].user == getattr(cast, who)


def test_the_navigation_offers_every_section(client_for, cast):
    html = client_for(cast.commune_clerk).get("/").content.decode()
    for name in (
        "plans:dashboard",
        "associations:member_list",
        "associations:branch_root",
        "associations:organization_list",
        "funds:fund_list",
        "funds:donation_list",
        "scholarships:round_list",
        "scholarships:award_list",
        "plans:plan_list",
    ):
        assert f'href="{reverse(name)}"' in html, name
    assert reverse("associations:staff_list") not in html
