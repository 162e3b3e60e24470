"""Search-as-you-type pickers (issue 15, item 1): the endpoints find what is typed without
accents, stay inside the user's subtree, answer at most 20 results in a constant number of
queries, and the forms' long lists carry them."""

import datetime

import pytest
from django.urls import reverse

from associations.models import BranchLevel
from funds.models import Donation, Fund
from khuyenhoc.search import LIMIT
from tests.factories import MemberFactory, OrganizationFactory, make_branch

pytestmark = pytest.mark.django_db

BRANCHES = reverse("associations:branch_search")
ORGANIZATIONS = reverse("associations:organization_search")
MEMBERS = reverse("associations:member_search")
FUNDS = reverse("funds:fund_search")


def search(client, url, q, **params):
    response = client.get(url, {"q": q, **params})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def labels(answer):
    return [result["label"] for result in answer["results"]]


def test_a_branch_is_found_by_part_of_its_name_typed_without_accents_with_its_path(client_for, cast, tree):
    answer = search(client_for(cast.manager), BRANCHES, "phuc xa")
    assert answer["results"] == [
        {
            "value": str(tree.phuc_xa.pk),
            "label": "Phường Phúc Xá",
            "detail": "Quận Ba Đình › Phường Phúc Xá",
            "depth": tree.phuc_xa.depth,
        }
    ]


def test_every_typed_word_must_match_in_any_order_and_case(client_for, cast, tree):
    client = client_for(cast.manager)
    assert labels(search(client, BRANCHES, "XA PHUC")) == ["Phường Phúc Xá"]
    assert labels(search(client, BRANCHES, "Trúc")) == ["Phường Trúc Bạch"]
    assert labels(search(client, BRANCHES, "phuc bach")) == []


def test_a_branch_is_found_by_its_code(client_for, cast, tree):
    assert labels(search(client_for(cast.manager), BRANCHES, "00004")) == ["Phường Trúc Bạch"]


def test_branches_outside_the_subtree_are_never_offered(client_for, cast, tree):
    client = client_for(cast.commune_clerk)
    assert labels(search(client, BRANCHES, "hang bac")) == []
    assert labels(search(client, BRANCHES, "")) == ["Phường Phúc Xá"]


def test_the_branch_search_narrows_to_the_levels_asked(client_for, cast, tree):
    make_branch("Chi hội Phúc Xá 1", BranchLevel.CHAPTER, tree.phuc_xa)
    client = client_for(cast.manager)
    assert labels(search(client, BRANCHES, "phuc xa")) == ["Phường Phúc Xá", "Chi hội Phúc Xá 1"]
    assert labels(search(client, BRANCHES, "phuc xa", level=["commune"])) == ["Phường Phúc Xá"]


def test_at_most_twenty_branches_in_a_constant_number_of_queries(client_for, cast, tree, django_assert_num_queries):
    client = client_for(cast.manager)
    client.get(BRANCHES, {"q": "chi hoi"})  # the session is loaded and the language settled
    for number in range(5):
        make_branch(f"Chi hội số {number}", BranchLevel.CHAPTER, tree.phuc_xa)
    with django_assert_num_queries(5) as few:
        client.get(BRANCHES, {"q": "chi hoi"})
    for number in range(5, LIMIT + 5):
        make_branch(f"Chi hội số {number}", BranchLevel.CHAPTER, tree.truc_bach)
    with django_assert_num_queries(len(few.captured_queries)):
        answer = search(client, BRANCHES, "chi hoi")
    assert len(answer["results"]) == LIMIT and answer["more"] is True


def test_an_organisation_is_found_without_accents_within_the_subtree(client_for, cast, tree):
    OrganizationFactory(name="Trường THCS Phúc Xá", branch=tree.phuc_xa)
    OrganizationFactory(name="Trường THCS Hàng Bạc", branch=tree.hang_bac)
    client = client_for(cast.manager)
    answer = search(client, ORGANIZATIONS, "truong thcs")
    assert labels(answer) == ["Trường THCS Phúc Xá"]
    assert answer["results"][0]["detail"] == "Phường Phúc Xá"


def test_a_member_is_found_by_name_or_by_citizen_id_and_shown_with_the_year_of_birth_only(client_for, cast, tree):
    MemberFactory(
        full_name="Nguyễn Thị Hoa",
        date_of_birth=datetime.date(1985, 3, 25),
        citizen_id="001185012345",
        branch=tree.phuc_xa,
    )
    MemberFactory(full_name="Nguyễn Thị Hoa Hàng Bạc", branch=tree.hang_bac)
    client = client_for(cast.commune_clerk)
    answer = search(client, MEMBERS, "nguyen hoa")
    assert labels(answer) == ["Nguyễn Thị Hoa"]
    assert answer["results"][0]["detail"] == "1985 · Phường Phúc Xá"
    assert "25/03" not in str(answer) and "001185012345" not in str(answer)
    assert labels(search(client, MEMBERS, "0011850")) == ["Nguyễn Thị Hoa"]


def test_a_leader_cannot_probe_citizen_ids_through_the_member_search(client_for, cast, tree):
    MemberFactory(full_name="Nguyễn Thị Hoa", citizen_id="001185012345", branch=tree.phuc_xa)
    client = client_for(cast.district_leader)
    assert labels(search(client, MEMBERS, "0011850")) == []
    assert labels(search(client, MEMBERS, "hoa")) == ["Nguyễn Thị Hoa"]


def test_a_fund_is_found_by_its_name_or_its_branch_without_accents(client_for, cast, funds):
    client = client_for(cast.commune_clerk)
    assert labels(search(client, FUNDS, "dong ho")) == ["Quỹ khuyến học dòng họ Nguyễn Phúc Xá"]
    assert sorted(labels(search(client, FUNDS, ""))) == sorted(
        ["Quỹ Khuyến học phường Phúc Xá", "Quỹ khuyến học dòng họ Nguyễn Phúc Xá"]
    )
    assert labels(search(client, FUNDS, "hoan kiem")) == []


def test_the_search_endpoints_answer_get_only_and_only_to_signed_in_users(client, client_for, cast):
    urls = (BRANCHES, ORGANIZATIONS, MEMBERS, FUNDS)
    assert [client.get(url).status_code for url in urls] == [302] * 4
    clerk = client_for(cast.commune_clerk)
    assert [clerk.post(url).status_code for url in urls] == [405] * 4


def test_the_long_lists_of_the_forms_carry_a_picker(client_for, cast, funds):
    client = client_for(cast.manager)
    member_form = client.get(reverse("associations:member_create")).content.decode()
    assert f'data-picker="{BRANCHES}?level=commune&amp;level=district"' in member_form
    assert f'data-picker="{ORGANIZATIONS}"' in member_form
    donation_form = client.get(reverse("funds:donation_create")).content.decode()
    assert f'data-picker="{FUNDS}"' in donation_form
    assert f'data-picker="{MEMBERS}"' in donation_form
    member_list = client.get(reverse("associations:member_list")).content.decode()
    assert f'data-picker="{BRANCHES}?level=commune&amp;level=district"' in member_list
    assert f'data-picker="{FUNDS}"' in client.get(reverse("funds:donation_list")).content.decode()


def test_a_donation_names_its_member_through_the_picker(client_for, cast, funds):
    member = MemberFactory(full_name="Nguyễn Văn Ấn", branch=funds.phuc_xa.branch)
    response = client_for(cast.commune_clerk).post(
        reverse("funds:donation_create"),
        {
            "fund": funds.phuc_xa.pk,
            "donor_name": "Nguyễn Văn Ấn",
            "donor_kind": "individual",
            "amount": "200.000",
            "received_on": "15/03/2017",
            "method": "cash",
            "member": member.pk,
        },
    )
    assert response.status_code == 302
    assert Donation.objects.get().member == member


@pytest.mark.parametrize(
    ("url", "make"),
    [
        (ORGANIZATIONS, lambda tree, n: OrganizationFactory(name=f"Trường số {n}", branch=tree.phuc_xa)),
        (MEMBERS, lambda tree, n: MemberFactory(full_name=f"Nguyễn Trường {n}", branch=tree.phuc_xa)),
    ],
)
def test_organisations_and_members_answer_in_a_constant_number_of_queries(
    client_for, cast, tree, django_assert_num_queries, url, make
):
    client = client_for(cast.commune_clerk)
    make(tree, 0)
    client.get(url, {"q": "truong"})
    with django_assert_num_queries(4) as few:
        client.get(url, {"q": "truong"})
    for number in range(1, LIMIT + 5):
        make(tree, number)
    with django_assert_num_queries(len(few.captured_queries)):
        answer = search(client, url, "truong")
    assert len(answer["results"]) == LIMIT and answer["more"] is True


def test_funds_answer_in_a_constant_number_of_queries(client_for, cast, funds, django_assert_num_queries):
    client = client_for(cast.commune_clerk)
    client.get(FUNDS, {"q": "quy"})
    with django_assert_num_queries(4) as few:
        client.get(FUNDS, {"q": "quy"})
    for number in range(LIMIT + 5):
        Fund.objects.create(branch=funds.phuc_xa.branch, name=f"Quỹ số {number}", fund_model=funds.phuc_xa.fund_model)
    with django_assert_num_queries(len(few.captured_queries)):
        answer = search(client, FUNDS, "quy")
    assert len(answer["results"]) == LIMIT and answer["more"] is True


def test_the_branch_picker_searches_only_the_levels_its_field_offers(client_for, cast, tree):
    make_branch("Chi hội Phúc Xá 1", BranchLevel.CHAPTER, tree.phuc_xa)
    client = client_for(cast.manager)
    member_form = client.get(reverse("associations:member_create")).content.decode()
    assert f'data-picker="{BRANCHES}?level=chapter&amp;level=commune&amp;level=district"' in member_form
    member_list = client.get(reverse("associations:member_list")).content.decode()  # administrative units only
    assert f'data-picker="{BRANCHES}?level=commune&amp;level=district"' in member_list


def test_without_javascript_the_branch_field_is_still_the_whole_indented_select(client_for, cast, tree):
    page = client_for(cast.manager).get(reverse("associations:member_create")).content.decode()
    select = page.split('name="branch"')[1].split("</select>")[0]
    assert "— Quận Ba Đình" in select and "— — Phường Phúc Xá" in select and "Hoàn Kiếm" not in select
