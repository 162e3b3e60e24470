"""The audit log's sortable columns (issue 15 item 7): the order a manager reads changes with the column."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from associations import services as registry

pytestmark = pytest.mark.django_db

MEMBER = {"category": "worker", "joined_on": datetime.date(2019, 1, 1)}
NAMES = ["Đặng Thị Hoa", "Vũ Văn Cường", "Dương Văn Bình"]  # created in this order


def create_members(cast, tree, names):
    for name in names:
        registry.member_create(actor=cast.commune_clerk, data={**MEMBER, "full_name": name, "branch": tree.phuc_xa})


def order_on_page(html: str, names) -> list[str]:
    """The names as the table shows them, top to bottom."""
    table = html[html.index('data-testid="audit-table"') :]
    return sorted(names, key=table.index)


def test_sorting_the_log_by_record_puts_the_records_in_vietnamese_alphabetical_order(client_for, cast, tree):
    create_members(cast, tree, NAMES)
    client = client_for(cast.manager)
    url = reverse("associations:audit_log")
    newest_first = client.get(url).content.decode()
    assert order_on_page(newest_first, NAMES) == ["Dương Văn Bình", "Vũ Văn Cường", "Đặng Thị Hoa"]
    by_record = client.get(url, {"sort": "record"}).content.decode()
    assert order_on_page(by_record, NAMES) == ["Dương Văn Bình", "Đặng Thị Hoa", "Vũ Văn Cường"]
    assert 'aria-sort="ascending"><a class="link-body-emphasis" data-sort="record"' in by_record
    backwards = client.get(url, {"sort": "-record"}).content.decode()
    assert order_on_page(backwards, NAMES) == ["Vũ Văn Cường", "Đặng Thị Hoa", "Dương Văn Bình"]


def test_sorting_by_time_ascending_shows_the_oldest_entry_first(client_for, cast, tree):
    create_members(cast, tree, NAMES)
    html = client_for(cast.manager).get(reverse("associations:audit_log"), {"sort": "at"}).content.decode()
    assert order_on_page(html, NAMES) == NAMES


def test_an_unknown_sort_key_keeps_the_newest_first(client_for, cast, tree):
    create_members(cast, tree, NAMES)
    html = client_for(cast.manager).get(reverse("associations:audit_log"), {"sort": "changes"}).content.decode()
    assert order_on_page(html, NAMES) == ["Dương Văn Bình", "Vũ Văn Cường", "Đặng Thị Hoa"]


@pytest.mark.parametrize("sort", ["record", "-actor", "branch"])
def test_a_sorted_log_makes_the_same_number_of_queries_for_3_or_30_entries(
    client_for, cast, tree, django_assert_num_queries, sort
):
    client = client_for(cast.manager)
    url = reverse("associations:audit_log")
    create_members(cast, tree, NAMES)
    client.get(url, {"sort": sort})
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"sort": sort})
    create_members(cast, tree, [f"Hội viên {n}" for n in range(27)])
    with django_assert_num_queries(len(few)):
        response = client.get(url, {"sort": sort})
    assert len(response.context["page"]) == 30
