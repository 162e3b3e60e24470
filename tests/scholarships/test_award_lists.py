"""The awards list (issue 15 items 7–8): sortable columns and export of the checked."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from associations.models import PersonalDataExport
from scholarships.list_exports import AWARD_SORTS, awards_listed
from tests.factories import donate, make_round, pay


@pytest.fixture
def awards(cast, tree, funds):
    clerk = cast.commune_clerk
    donate(clerk, funds.phuc_xa, 10_000_000)
    scholarship_round = make_round(clerk, tree.phuc_xa, funds.phuc_xa)
    return [
        pay(clerk, scholarship_round, 300_000, recipient_name="Phan Văn Hà"),
        pay(clerk, scholarship_round, 1_500_000, recipient_name="Phạm Thị Lan"),
        pay(clerk, scholarship_round, 800_000, recipient_name="Bùi Minh Châu"),
    ]


def names(rows) -> list[str]:
    return [award.recipient_name for award in rows]


def test_awards_sort_by_recipient_in_vietnamese_order_and_by_amount(cast, awards):
    clerk = cast.commune_clerk
    assert names(awards_listed(clerk, {"sort": "recipient"})) == ["Bùi Minh Châu", "Phạm Thị Lan", "Phan Văn Hà"]
    assert names(awards_listed(clerk, {"sort": "-amount"})) == ["Phạm Thị Lan", "Bùi Minh Châu", "Phan Văn Hà"]
    for key in AWARD_SORTS:
        for sort in (key, f"-{key}"):
            assert len(awards_listed(clerk, {"sort": sort})) == 3


def test_an_unknown_sort_key_falls_back_to_the_latest_paid_first(cast, awards):
    clerk = cast.commune_clerk
    default = [a.pk for a in awards_listed(clerk, {})]
    assert [a.pk for a in awards_listed(clerk, {"sort": "recipient_id"})] == default


def test_the_checked_awards_export_alone_and_the_export_is_recorded(client_for, cast, awards):
    response = client_for(cast.district_leader).get(
        reverse("scholarships:award_list"), {"format": "xlsx", "selected": "1", "ids": [awards[0].pk, awards[2].pk]}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(row[1] for row in rows) == ["Bùi Minh Châu", "Phan Văn Hà"]
    assert all(row[2].startswith("••/••/") for row in rows)  # a leader's export is masked
    assert PersonalDataExport.objects.get(user=cast.district_leader).row_count == 2


def test_the_list_offers_checkboxes_and_sortable_columns(client_for, cast, awards):
    html = client_for(cast.commune_clerk).get(reverse("scholarships:award_list")).content.decode()
    assert 'data-select-all="ids"' in html
    assert 'data-sort="recipient"' in html
    assert f'name="ids" value="{awards[1].pk}"' in html


def test_rounds_sort_by_each_allowed_key(client_for, cast, tree, funds, awards):
    from scholarships.views import ROUND_SORTS

    clerk = cast.commune_clerk
    make_round(clerk, tree.phuc_xa, funds.phuc_xa, name="Giải thưởng Ánh Dương")
    client = client_for(clerk)
    for key in ROUND_SORTS:
        for sort in (key, f"-{key}"):
            assert client.get(reverse("scholarships:round_list"), {"sort": sort}).status_code == 200
    html = client.get(reverse("scholarships:round_list"), {"sort": "-turns"}).content.decode()
    assert html.index("Học bổng năm học 2016-2017") < html.index("Giải thưởng Ánh Dương")
    html = client.get(reverse("scholarships:round_list"), {"sort": "name"}).content.decode()
    assert html.index("Giải thưởng Ánh Dương") < html.index("Học bổng năm học 2016-2017")
