"""The donation list's totals line comes from stored monthly totals (funds.totals): always
equal to a live recount of the records, after every kind of write, for every filter, with a
query count that does not grow with the data."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from associations.services import branch_move
from funds import reports, services
from funds.forms import DonationFilterForm
from funds.models import Donation, DonationMonthTotal
from funds.periods import Period
from funds.selectors import donation_totals
from funds.totals import DONATIONS, totals_check, totals_rebuild, whole_months
from tests.factories import donate
from tests.funds.test_donation_import import (  # noqa: F401 — the import tests' fixtures
    DONATION_HEADERS,
    _media_and_english,
    apply,
    donation_row,
    upload,
    xlsx,
)

D = datetime.date


@pytest.fixture
def spread(cast, funds):
    """Donations across three funds, two districts, several months, one voided."""
    clerk, admin = cast.commune_clerk, cast.admin
    made = [
        donate(clerk, funds.phuc_xa, 500_000, day=D(2017, 1, 10)),
        donate(clerk, funds.phuc_xa, 700_000, day=D(2017, 1, 31), method="bank"),
        donate(clerk, funds.phuc_xa_clan, 300_000, day=D(2017, 2, 1), donor_kind="family"),
        donate(clerk, funds.phuc_xa, 1_100_000, day=D(2017, 3, 15)),
        donate(admin, funds.truc_bach, 2_000_000, day=D(2017, 2, 20)),
        donate(admin, funds.ba_dinh, 4_000_000, day=D(2017, 4, 30)),
        donate(admin, funds.city, 9_000_000, day=D(2017, 5, 1)),
        donate(cast.sibling_clerk, funds.hoan_kiem, 800_000, day=D(2017, 3, 3)),
    ]
    services.donation_void(actor=admin, donation=made[3], reason="Ghi nhầm số tiền")
    return made


def live(user, params) -> dict:
    form = DonationFilterForm(params or None, user=user)
    totals = form.filter(Donation.objects.visible_to(user)).valid().aggregate(amount=Sum("amount"), count=Count("id"))
    return {"count": totals["count"], "amount": totals["amount"] or 0}


def stored(user, params) -> dict:
    return donation_totals(user, DonationFilterForm(params or None, user=user))


FILTERS = [
    {},
    {"start": "2017-01-15"},
    {"end": "2017-02-20"},
    {"start": "2017-01-31", "end": "2017-03-14"},
    {"start": "2017-02-01", "end": "2017-04-30"},
    {"start": "2017-02-02", "end": "2017-02-27"},
    {"start": "2017-01-01", "end": "2017-01-31"},
    {"method": "bank"},
    {"donor_kind": "family", "end": "2017-12-31"},
    {"state": "all"},
    {"state": "voided"},
]


def test_the_stored_totals_equal_a_live_recount_for_every_filter_and_user(cast, tree, funds, fund_model, spread):
    filters = [*FILTERS, {"fund_model": fund_model.pk}, {"branch": tree.ba_dinh.pk, "start": "2017-01-20"}]
    for user in (cast.commune_clerk, cast.district_leader, cast.city_leader, cast.sibling_clerk, cast.admin):
        for params in filters:
            assert stored(user, params) == live(user, params), (user.username, params)
    assert stored(cast.city_leader, {}) == {"count": 7, "amount": 17_300_000}


def test_filters_the_stored_rows_cannot_answer_are_counted_live(cast, tree, funds, spread):
    for params in ({"q": "Nguyễn"}, {"fund": funds.phuc_xa.pk}, {"branch": tree.phuc_xa.pk, "own": "on"}):
        assert stored(cast.city_leader, params) == live(cast.city_leader, params), params
    assert stored(cast.city_leader, {"fund": funds.phuc_xa.pk}) == {"count": 2, "amount": 1_200_000}


def test_whole_months_are_stored_and_the_partial_ones_counted_live():
    assert whole_months(None, None) == (None, None, [])
    assert whole_months(D(2017, 1, 15), D(2017, 3, 10)) == (
        D(2017, 2, 1),
        D(2017, 2, 1),
        [(D(2017, 1, 15), D(2017, 1, 31)), (D(2017, 3, 1), D(2017, 3, 10))],
    )
    assert whole_months(D(2017, 1, 1), D(2017, 12, 31)) == (D(2017, 1, 1), D(2017, 12, 1), [])
    first, last, days = whole_months(D(2017, 2, 2), D(2017, 2, 27))
    assert first > last and days == [(D(2017, 2, 2), D(2017, 2, 27))]


def test_record_and_void_keep_the_stored_rows_equal_to_a_rebuild(cast, funds, spread):
    assert totals_check(DONATIONS) == []
    before = sorted(
        DonationMonthTotal.objects.values_list(
            "branch", "month", "fund_model", "donor_kind", "method", "count", "amount", "voided_count", "voided_amount"
        )
    )
    totals_rebuild(DONATIONS)
    after = sorted(
        DonationMonthTotal.objects.values_list(
            "branch", "month", "fund_model", "donor_kind", "method", "count", "amount", "voided_count", "voided_amount"
        )
    )
    assert before == after
    # The city's row of January holds both Phúc Xá donations; the voided one moved to the voided measures.
    march = DonationMonthTotal.objects.get(branch=funds.city.branch, month=D(2017, 3, 1), method="cash")
    assert (march.count, march.amount, march.voided_count, march.voided_amount) == (1, 800_000, 1, 1_100_000)


def test_a_check_finds_a_stored_row_that_went_wrong(cast, funds, spread):
    DonationMonthTotal.objects.filter(branch=funds.city.branch, month=D(2017, 1, 1)).update(amount=1)
    assert totals_check(DONATIONS)
    totals_rebuild(DONATIONS)
    assert totals_check(DONATIONS) == []


def test_a_donation_shows_in_the_city_totals_on_the_next_request(client_for, cast, funds, spread):
    client = client_for(cast.city_leader)
    url = reverse("funds:donation_list")
    assert "7 valid donations" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    donate(cast.commune_clerk, funds.phuc_xa, 250_000, day=D(2017, 6, 2))
    page = client.get(url).content.decode()
    assert "8 valid donations" in page and "17.550.000" in page
    services.donation_void(actor=cast.admin, donation=spread[0], reason="Trùng biên lai")
    page = client.get(url).content.decode()
    assert "7 valid donations" in page and "17.050.000" in page


def test_an_imported_file_moves_the_stored_totals_with_it(upload, apply, cast, funds, spread):  # noqa: F811
    rows = [donation_row(day="03/07/2017", amount="1.000.000"), donation_row(day="28/07/2017", amount="2.000.000")]
    job = apply(cast.commune_clerk, upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, rows)))
    assert job.status == "applied", job.errors
    assert totals_check(DONATIONS) == []
    assert stored(cast.city_leader, {"start": "2017-07-01"}) == {"count": 2, "amount": 3_000_000}


def test_the_list_query_count_does_not_grow_with_the_donations(
    client_for, cast, funds, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.city_leader)
    url = reverse("funds:donation_list")
    params = {"start": "2017-01-15", "end": "2017-05-20"}
    donate(cast.commune_clerk, funds.phuc_xa, 100_000, day=D(2017, 2, 3))
    client.get(url, params)
    with CaptureQueriesContext(connection) as few:
        client.get(url, params)
    for month in range(1, 13):
        for fund in (funds.phuc_xa, funds.truc_bach, funds.hoan_kiem):
            donate(cast.admin, fund, 100_000 * month, day=D(2017, month, 14))
    with django_assert_num_queries(len(few)):
        client.get(url, params)


def _rows(rows):
    return [(row.label, row.figures, row.filters) for row in rows]


def _live_by_model(branch, period):
    grouped = (
        reports.donations_in(branch, period)
        .values("fund__fund_model_id", "fund__fund_model__name", "fund__fund_model__ordering")
        .annotate(**reports.RAISED)
        .order_by("fund__fund_model__ordering", "fund__fund_model__name")
    )
    return [
        (
            row["fund__fund_model__name"],
            {"amount": row["amount"], "donations": row["donations"]},
            {"fund_model": row["fund__fund_model_id"]},
        )
        for row in grouped
    ]


def _live_by_month(branch, period):
    grouped = (
        reports.donations_in(branch, period)
        .annotate(month=TruncMonth("received_on"))
        .values("month")
        .annotate(**reports.RAISED)
        .order_by("month")
    )
    return [(f"{row['month']:%m/%Y}", {"amount": row["amount"], "donations": row["donations"]}) for row in grouped]


REPORT_PERIODS = [
    Period.calendar_year(2017),
    Period.first_months(2017, 3),
    Period.date_range(D(2017, 1, 20), D(2017, 4, 30)),
    Period.date_range(D(2017, 2, 2), D(2017, 2, 25)),
    Period.calendar_year(2018),
]


def test_the_funds_report_from_stored_totals_equals_a_live_count(tree, funds, spread):
    for branch in (tree.city, tree.ba_dinh, tree.phuc_xa, tree.hoan_kiem):
        for period in REPORT_PERIODS:
            live = reports.donations_in(branch, period).aggregate(**reports.RAISED)
            assert reports.raised_total(branch, period) == {
                "amount": live["amount"] or 0,
                "donations": live["donations"],
            }
            assert _rows(reports.raised_by_branch(branch, period)) == _rows(
                reports.group_by_child_branch(
                    reports.donations_in(branch, period),
                    branch=branch,
                    path_lookup="fund__branch__path",
                    **reports.RAISED,
                )
            ), (branch, period.label)
            assert _rows(reports.raised_by_fund_model(branch, period)) == _live_by_model(branch, period)
            by_month = [(row.label, row.figures) for row in reports.raised_by_month(branch, period)]
            assert by_month == _live_by_month(branch, period), (branch, period.label)
        total, by_branch, by_model = reports.balances(branch)
        assert total == reports.balances_total(branch)
        assert _rows(by_branch) == _rows(reports.balances_by_branch(branch))
        assert _rows(by_model) == _rows(reports.balances_by_fund_model(branch))
    assert reports.latest_donation_day(tree.city) == D(2017, 5, 1)
    assert reports.latest_donation_day(tree.hoan_kiem) == D(2017, 3, 3)
    assert reports.latest_donation_day(tree.hang_bac) is None


def test_the_funds_report_page_takes_the_same_queries_whatever_the_donations(
    client_for, cast, funds, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.city_leader)
    url = reverse("funds:report")
    donate(cast.commune_clerk, funds.phuc_xa, 100_000, day=D(2017, 2, 3))
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for month in range(1, 13):
        for fund in (funds.phuc_xa, funds.truc_bach, funds.hoan_kiem, funds.phuc_xa_clan):
            donate(cast.admin, fund, 100_000 * month, day=D(2017, month, 14))
    with django_assert_num_queries(len(few)):
        client.get(url)


def test_the_command_checks_then_rebuilds_the_stored_totals(cast, funds, spread):
    out = io.StringIO()
    call_command("money_totals", stdout=out)
    assert "donations: the stored totals equal a recount" in out.getvalue()
    assert "awards: the stored totals equal a recount" in out.getvalue()
    DonationMonthTotal.objects.filter(branch=funds.phuc_xa.branch).delete()
    with pytest.raises(CommandError, match="donations"):
        call_command("money_totals", stdout=io.StringIO())
    call_command("money_totals", "--rebuild", stdout=io.StringIO())
    assert totals_check(DONATIONS) == []


def test_the_list_counts_its_rows_with_the_totals_and_counts_them_live_otherwise(client_for, cast, spread):
    client = client_for(cast.city_leader)
    url = reverse("funds:donation_list")
    assert client.get(url).context["paginator"].count == 7
    assert client.get(url, {"start": "2017-01-20"}).context["paginator"].count == 6
    assert client.get(url, {"state": "all"}).context["paginator"].count == 8
    assert client.get(url, {"state": "voided"}).context["paginator"].count == 1


def test_a_branch_moved_in_the_registry_takes_its_totals_to_its_new_district(cast, tree, funds, spread):
    before = stored(cast.city_leader, {})
    branch_move(actor=cast.admin, branch=tree.phuc_xa, new_parent=tree.hoan_kiem)
    assert totals_check(DONATIONS) == []
    tree.hoan_kiem.refresh_from_db()
    assert stored(cast.city_leader, {}) == before
    # Phúc Xá's three valid donations (0.5 + 0.7 + 0.3 million) now count in Hoàn Kiếm.
    assert stored(cast.sibling_clerk, {}) == {"count": 4, "amount": 2_300_000}
    assert stored(cast.sibling_clerk, {}) == live(cast.sibling_clerk, {})
