"""The award list of the load test (issue 16): a pinned number of queries whatever the number
of awards and rounds, round and fund filters that search instead of listing every one, and a
new award shown on the next request."""

import json
import re

import pytest
from django.urls import reverse

from tests.factories import donate, make_round, pay

pytestmark = pytest.mark.django_db

# Turns and amount from the stored totals (funds.totals) after asking whether the subtree has
# a history outside it (the turns are the page's count); the distinct recipients counted
# apart (only under RECIPIENTS_LIMIT).
AWARD_LIST_QUERIES = 7


@pytest.fixture
def scholarship_round(cast, tree, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 10_000_000)
    return make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_the_award_list_keeps_its_queries_for_2_or_20_awards_in_1_or_10_rounds(
    cast, tree, funds, scholarship_round, client_for, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.city_leader)
    url = reverse("scholarships:award_list")
    for index in range(2):
        pay(cast.commune_clerk, scholarship_round, 1_000, recipient_name=f"Em {index}")
    client.get(url)
    with django_assert_num_queries(AWARD_LIST_QUERIES):
        client.get(url)
    for index in range(9):
        more = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa, name=f"Đợt {index}")
        pay(cast.commune_clerk, more, 1_000, recipient_name=f"Em {index}")
        pay(cast.commune_clerk, more, 1_000, recipient_name=f"Chị {index}")
    with django_assert_num_queries(AWARD_LIST_QUERIES):
        page = client.get(url).content.decode()
    assert _options(page, "round") == [""] and _options(page, "fund") == [""] and _options(page, "branch") == [""]


def test_a_round_chosen_in_the_filter_is_kept_and_filters(cast, scholarship_round, client_for):
    pay(cast.commune_clerk, scholarship_round, 1_000, recipient_name="Phạm Thị Chọn")
    response = client_for(cast.city_leader).get(reverse("scholarships:award_list"), {"round": scholarship_round.pk})
    page = response.content.decode()
    assert _options(page, "round") == ["", str(scholarship_round.pk)]
    assert "Phạm Thị Chọn" in page and not response.context["form"].errors


def test_the_round_search_finds_rounds_of_the_users_subtree_only(cast, tree, funds, scholarship_round, client_for):
    donate(cast.sibling_clerk, funds.hoan_kiem, 1_000_000)
    make_round(cast.sibling_clerk, tree.hoan_kiem, funds.hoan_kiem, name="Học bổng Hoàn Kiếm")
    found = json.loads(
        client_for(cast.district_leader).get(reverse("scholarships:round_search"), {"q": "hoc bong"}).content
    )
    assert [result["value"] for result in found["results"]] == [str(scholarship_round.pk)]


def test_a_new_award_shows_on_the_next_request_of_the_list(cast, scholarship_round, client_for):
    client = client_for(cast.city_leader)
    assert "Đỗ Văn Mới" not in client.get(reverse("scholarships:award_list")).content.decode()
    pay(cast.commune_clerk, scholarship_round, 500_000, recipient_name="Đỗ Văn Mới")
    assert "Đỗ Văn Mới" in client.get(reverse("scholarships:award_list")).content.decode()
