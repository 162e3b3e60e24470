"""The money pages of the load test (issue 16) — the donation list, a fund's ledger and the
funds report: a pinned number of queries whatever the number of records, filters that search
instead of listing every branch and fund, and a new donation shown on the next request."""

import re

import pytest
from django.urls import reverse

from tests.factories import donate

pytestmark = pytest.mark.django_db

# Pinned: the same count for a handful of records as for ten times more.
# The totals line reads the stored totals (funds.totals) after asking whether the user's
# subtree has a history outside it, and gives the page its count; the report reads the
# balances in one query, the latest day in two.
DONATION_LIST_QUERIES = 7
LEDGER_QUERIES = 8
REPORT_QUERIES = 12


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_the_donation_list_keeps_its_queries_for_3_or_30_donations(
    cast, funds, client_for, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.city_leader)
    url = reverse("funds:donation_list")
    for _ in range(3):
        donate(cast.manager, funds.phuc_xa, 1_000)
    client.get(url)
    with django_assert_num_queries(DONATION_LIST_QUERIES):
        client.get(url)
    for _ in range(27):
        donate(cast.manager, funds.truc_bach, 1_000)
    with django_assert_num_queries(DONATION_LIST_QUERIES):
        client.get(url)


def test_the_donation_filters_list_only_the_branch_and_fund_chosen_and_search_the_rest(cast, tree, funds, client_for):
    client = client_for(cast.city_leader)
    page = client.get(reverse("funds:donation_list")).content.decode()
    assert _options(page, "branch") == [""] and _options(page, "fund") == [""]
    assert 'data-picker="/registry/search/branches/' in page and 'data-picker="/funds/search/"' in page
    assert page.count("data-picker-open") >= 2

    chosen = client.get(reverse("funds:donation_list"), {"branch": tree.ba_dinh.pk, "fund": funds.phuc_xa.pk})
    page = chosen.content.decode()
    assert _options(page, "branch") == ["", str(tree.ba_dinh.pk)]
    assert _options(page, "fund") == ["", str(funds.phuc_xa.pk)]
    assert not chosen.context["form"].errors


def test_a_branch_outside_the_users_subtree_is_still_refused_by_the_filter(cast, tree, funds, client_for):
    response = client_for(cast.district_leader).get(reverse("funds:donation_list"), {"branch": tree.hoan_kiem.pk})
    assert "branch" in response.context["form"].errors


def test_a_new_donation_shows_on_the_next_request_of_the_list_the_ledger_and_the_report(cast, funds, client_for):
    client = client_for(cast.city_leader)
    ledger = reverse("funds:fund_detail", args=[funds.phuc_xa.pk])
    report = reverse("funds:report") + "?period=year&year=2017"
    assert "Trần Văn Mới" not in client.get(reverse("funds:donation_list")).content.decode()
    before = client.get(report).context["raised_total"]["donations"]
    client.get(ledger)

    donation = donate(cast.commune_clerk, funds.phuc_xa, 1_234_000, donor_name="Trần Văn Mới")

    assert "Trần Văn Mới" in client.get(reverse("funds:donation_list")).content.decode()
    assert [entry.donation_id for entry in client.get(ledger).context["page"]] == [donation.pk]
    assert client.get(report).context["raised_total"]["donations"] == before + 1


def test_a_funds_ledger_keeps_its_queries_for_3_or_30_entries(
    cast, funds, client_for, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.city_leader)
    url = reverse("funds:fund_detail", args=[funds.phuc_xa.pk])
    for _ in range(3):
        donate(cast.manager, funds.phuc_xa, 1_000)
    client.get(url)
    with django_assert_num_queries(LEDGER_QUERIES):
        client.get(url)
    for _ in range(27):
        donate(cast.manager, funds.phuc_xa, 1_000)
    with django_assert_num_queries(LEDGER_QUERIES):
        client.get(url)


def test_the_funds_report_keeps_its_queries_for_3_or_30_donations(
    cast, funds, client_for, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.city_leader)
    url = reverse("funds:report")
    for _ in range(3):
        donate(cast.manager, funds.phuc_xa, 1_000)
    client.get(url)
    with django_assert_num_queries(REPORT_QUERIES):
        page = client.get(url).content.decode()
    assert _options(page, "branch") == [""]
    for _ in range(27):
        donate(cast.manager, funds.truc_bach, 1_000)
    with django_assert_num_queries(REPORT_QUERIES):
        client.get(url)
