"""The member list of the load test (issue 16), at city and district level: a pinned number
of queries whatever the number of members, a branch filter that searches instead of listing
~600 branches, and a new member shown on the next request."""

import re

import pytest
from django.urls import reverse

from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# Session, user, staff profile, the history's path prefixes (associations.access.visible_prefixes),
# the capped count, the page.
MEMBER_LIST_QUERIES = 6


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)"', select.group(1))


@pytest.mark.parametrize("who", ["city_leader", "district_leader"])
def test_the_member_list_keeps_its_queries_for_3_or_30_members(
    cast, tree, client_for, who, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(getattr(cast, who))
    url = reverse("associations:member_list")
    for _ in range(3):
        MemberFactory(branch=tree.phuc_xa)
    client.get(url)
    with django_assert_num_queries(MEMBER_LIST_QUERIES):
        page = client.get(url).content.decode()
    assert _options(page, "branch") == [""]
    for _ in range(27):
        MemberFactory(branch=tree.truc_bach)
    with django_assert_num_queries(MEMBER_LIST_QUERIES):
        client.get(url)


def test_the_branch_chosen_is_kept_in_the_filter_and_filters_the_list(cast, tree, client_for):
    MemberFactory(branch=tree.phuc_xa, full_name="Vũ Thị Phúc")
    MemberFactory(branch=tree.hang_bac, full_name="Lê Văn Hàng")
    response = client_for(cast.city_leader).get(reverse("associations:member_list"), {"branch": tree.phuc_xa.pk})
    page = response.content.decode()
    assert _options(page, "branch") == ["", str(tree.phuc_xa.pk)]
    assert "Vũ Thị Phúc" in page and "Lê Văn Hàng" not in page


def test_a_new_member_shows_on_the_next_request_of_the_list(cast, tree, client_for):
    client = client_for(cast.city_leader)
    assert "Hoàng Văn Mới" not in client.get(reverse("associations:member_list")).content.decode()
    MemberFactory(branch=tree.phuc_xa, full_name="Hoàng Văn Mới")
    assert "Hoàng Văn Mới" in client.get(reverse("associations:member_list")).content.decode()
