"""The list of Excel imports sorts by its columns (issue 15 item 7), as the other lists do."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from imports.models import ImportJob

pytestmark = pytest.mark.django_db


def make_jobs(cast, tree, specs):
    """specs: (file name, rows, errors), created in this order."""
    for name, rows, errors in specs:
        ImportJob.objects.create(
            kind="members",
            created_by=cast.commune_clerk,
            branch=tree.phuc_xa,
            original_name=name,
            total_rows=rows,
            error_count=errors,
        )


JOBS = [("hoi-vien-dot-2.xlsx", 120, 0), ("danh-sach-moi.xlsx", 15, 7), ("ung-ho-2024.xlsx", 900, 2)]
FILES = [name for name, _rows, _errors in JOBS]


def order_on_page(html: str) -> list[str]:
    table = html[html.index('data-testid="import-list"') :]
    return sorted(FILES, key=table.index)


def test_sorting_imports_by_errors_or_file_name_changes_the_order_shown(client_for, cast, tree):
    make_jobs(cast, tree, JOBS)
    client = client_for(cast.commune_clerk)
    url = reverse("imports:job_list")
    assert order_on_page(client.get(url).content.decode()) == [
        "ung-ho-2024.xlsx",
        "danh-sach-moi.xlsx",
        "hoi-vien-dot-2.xlsx",
    ]  # newest first
    most_errors = client.get(url, {"sort": "-errors"}).content.decode()
    assert order_on_page(most_errors) == ["danh-sach-moi.xlsx", "ung-ho-2024.xlsx", "hoi-vien-dot-2.xlsx"]
    assert 'aria-sort="descending"><a class="link-body-emphasis" data-sort="errors"' in most_errors
    by_file = client.get(url, {"sort": "file"}).content.decode()
    assert order_on_page(by_file) == ["danh-sach-moi.xlsx", "hoi-vien-dot-2.xlsx", "ung-ho-2024.xlsx"]
    by_rows = client.get(url, {"sort": "rows"}).content.decode()
    assert order_on_page(by_rows) == ["danh-sach-moi.xlsx", "hoi-vien-dot-2.xlsx", "ung-ho-2024.xlsx"]


def test_sorting_keeps_the_filters_in_the_column_links(client_for, cast, tree):
    make_jobs(cast, tree, JOBS)
    html = client_for(cast.commune_clerk).get(reverse("imports:job_list"), {"kind": "members"}).content.decode()
    assert 'href="?kind=members&amp;sort=errors"' in html


@pytest.mark.parametrize("sort", ["-errors", "file", "by", "branch"])
def test_a_sorted_import_list_makes_the_same_number_of_queries_for_3_or_30_jobs(
    client_for, cast, tree, django_assert_num_queries, sort
):
    client = client_for(cast.commune_clerk)
    url = reverse("imports:job_list")
    make_jobs(cast, tree, JOBS)
    client.get(url, {"sort": sort})
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"sort": sort})
    make_jobs(cast, tree, [(f"tep-{n}.xlsx", n, n % 3) for n in range(27)])
    with django_assert_num_queries(len(few)):
        response = client.get(url, {"sort": sort})
    assert len(response.context["page"]) == 30
