import pytest
from django.urls import reverse

from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_the_branch_page_lists_children_with_their_subtree_counts(client_for, cast, tree):
    MemberFactory.create_batch(2, branch=tree.phuc_xa)
    MemberFactory(branch=tree.truc_bach)
    OrganizationFactory(branch=tree.truc_bach)
    response = client_for(cast.city_leader).get(reverse("associations:branch_detail", args=[tree.city.pk]))
    rows = {row["branch"].name: row for row in response.context["children"]}
    assert set(rows) == {"Quận Ba Đình", "Quận Hoàn Kiếm"}
    assert rows["Quận Ba Đình"]["members"] == 3
    assert rows["Quận Ba Đình"]["organizations"] == 1
    assert rows["Quận Hoàn Kiếm"]["members"] == 0


def test_the_branch_page_query_count_does_not_grow_with_children(client_for, cast, tree, django_assert_max_num_queries):
    from tests.factories import make_branch

    client = client_for(cast.city_leader)
    url = reverse("associations:branch_detail", args=[tree.ba_dinh.pk])
    client.get(url)  # the session's first request records its activity time
    for index in range(30):
        make_branch(f"Phường {index}", "commune", tree.ba_dinh)
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


def test_a_user_lands_on_their_own_branch_and_its_breadcrumb_starts_there(client_for, cast, tree):
    client = client_for(cast.district_leader)
    response = client.get(reverse("associations:branch_root"))
    assert response["Location"] == reverse("associations:branch_detail", args=[tree.ba_dinh.pk])
    response = client.get(reverse("associations:branch_detail", args=[tree.phuc_xa.pk]))
    assert [crumb.name for crumb in response.context["breadcrumb"]] == ["Quận Ba Đình", "Phường Phúc Xá"]


def test_branches_outside_the_subtree_answer_404(client_for, cast, tree):
    client = client_for(cast.district_leader)
    for branch in (tree.city, tree.hoan_kiem, tree.hang_bac):
        assert client.get(reverse("associations:branch_detail", args=[branch.pk])).status_code == 404
    client = client_for(cast.sibling_clerk)
    assert client.get(reverse("associations:branch_create", args=[tree.phuc_xa.pk])).status_code == 404


def test_a_leader_may_not_add_a_chapter(client_for, cast, tree):
    response = client_for(cast.district_leader).post(
        reverse("associations:branch_create", args=[tree.phuc_xa.pk]), {"name": "Chi hội tổ 1", "level": "chapter"}
    )
    assert response.status_code == 403


def test_administrative_units_keep_their_official_name(client_for, cast, tree):
    client = client_for(cast.manager)
    response = client.post(
        reverse("associations:branch_update", args=[tree.phuc_xa.pk]),
        {"name": "Tên khác", "founded_on": "01/01/1995"},
    )
    assert response.status_code == 302
    tree.phuc_xa.refresh_from_db()
    assert tree.phuc_xa.name == "Phường Phúc Xá"
    assert tree.phuc_xa.founded_on.year == 1995
