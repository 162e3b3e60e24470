"""The donations list (issue 15 items 7–8): sortable columns, export of the checked, large exports in the background."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from associations import exports as association_exports
from associations.models import ExportJob, ExportStatus
from funds.list_exports import DONATION_SORTS, donations_listed
from tests.factories import donate


@pytest.fixture
def donations(cast, funds):
    clerk = cast.commune_clerk
    return [
        donate(clerk, funds.phuc_xa, 500_000, donor_name="Vũ Văn Cường"),
        donate(clerk, funds.phuc_xa, 2_000_000, donor_name="Đặng Thị Hoa"),
        donate(clerk, funds.phuc_xa, 1_000_000, donor_name="Dương Văn Bình"),
        donate(cast.sibling_clerk, funds.hoan_kiem, 900_000, donor_name="Lê Văn Ngoài"),
    ]


def donors(rows) -> list[str]:
    return [donation.donor_name for donation in rows]


def test_donations_sort_by_each_allowed_key(cast, donations):
    clerk = cast.commune_clerk
    assert donors(donations_listed(clerk, {"sort": "donor"})) == ["Dương Văn Bình", "Đặng Thị Hoa", "Vũ Văn Cường"]
    assert donors(donations_listed(clerk, {"sort": "-amount"})) == ["Đặng Thị Hoa", "Dương Văn Bình", "Vũ Văn Cường"]
    assert donors(donations_listed(clerk, {"sort": "amount"})) == ["Vũ Văn Cường", "Dương Văn Bình", "Đặng Thị Hoa"]
    for key in DONATION_SORTS:
        for sort in (key, f"-{key}"):
            assert len(donations_listed(clerk, {"sort": sort})) == 3


def test_an_unknown_sort_key_falls_back_to_the_newest_first(cast, donations):
    clerk = cast.commune_clerk
    default = [d.pk for d in donations_listed(clerk, {})]
    assert default == sorted(default, reverse=True)  # same day: the stable tie-breaker, newest id first
    assert [d.pk for d in donations_listed(clerk, {"sort": "donor_phone"})] == default
    assert [d.pk for d in donations_listed(clerk, {"sort": "--amount"})] == default


def test_the_page_offers_sortable_columns_and_checkboxes(client_for, cast, donations):
    html = client_for(cast.commune_clerk).get(reverse("funds:donation_list"), {"sort": "-amount"}).content.decode()
    assert 'aria-sort="descending"><a class="link-body-emphasis" data-sort="amount"' in html
    assert html.index("Đặng Thị Hoa") < html.index("Dương Văn Bình") < html.index("Vũ Văn Cường")
    assert 'data-select-all="ids"' in html
    assert f'name="ids" value="{donations[0].pk}"' in html


def test_the_checked_donations_export_alone(client_for, cast, donations):
    response = client_for(cast.commune_clerk).get(
        reverse("funds:donation_list"),
        {"format": "xlsx", "selected": "1", "ids": [donations[1].pk, donations[3].pk]},
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Đặng Thị Hoa"]


def test_exporting_the_checked_with_none_checked_says_so(client_for, cast, donations):
    response = client_for(cast.commune_clerk).get(reverse("funds:donation_list"), {"format": "xlsx", "selected": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("funds:donation_list")


def test_a_large_donations_export_runs_in_the_background(
    client_for, cast, donations, eager, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(association_exports, "BACKGROUND_THRESHOLD", 2)
    client = client_for(cast.commune_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("funds:donation_list"), {"format": "xlsx", "sort": "donor"})
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("associations:export_job", args=[job.pk])
    assert (job.kind, job.status, job.done_rows) == ("donations", ExportStatus.DONE, 3)
    download = client.get(reverse("associations:export_job_download", args=[job.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).worksheets[0]
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Dương Văn Bình",
        "Đặng Thị Hoa",
        "Vũ Văn Cường",
    ]


def test_funds_sort_by_name_branch_and_balance(client_for, cast, donations, funds):
    client = client_for(cast.district_leader)
    html = client.get(reverse("funds:fund_list"), {"sort": "-balance"}).content.decode()
    assert html.index("Quỹ Khuyến học phường Phúc Xá") < html.index("Quỹ Khuyến học quận Ba Đình")
    by_name = client.get(reverse("funds:fund_list"), {"sort": "name"}).content.decode()
    assert by_name.index("Quỹ khuyến học dòng họ") < by_name.index("Quỹ Khuyến học phường Phúc Xá")
    default = client.get(reverse("funds:fund_list")).content.decode()
    unknown = client.get(reverse("funds:fund_list"), {"sort": "legal_form"}).content.decode()
    assert default.index("quận Ba Đình") < default.index("phường Phúc Xá")  # the tree's order
    assert unknown.index("quận Ba Đình") < unknown.index("phường Phúc Xá")


def test_the_donations_list_costs_the_same_queries_whatever_its_size_estimate_included(
    client_for, cast, funds, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from khuyenhoc.pagination import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 5)  # beyond the cap: the planner's estimate is shown
    client = client_for(cast.commune_clerk)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            html = client.get(reverse("funds:donation_list"), {"sort": "donor"}).content.decode()
        assert 'data-testid="result-estimate"' in html
        return len(captured)

    for _ in range(8):
        donate(cast.commune_clerk, funds.phuc_xa, 100_000)
    small = queries()
    for _ in range(40):
        donate(cast.commune_clerk, funds.phuc_xa, 100_000)
    assert queries() == small
