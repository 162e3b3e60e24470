"""A donation or award import writes its stored money totals (funds.totals) once, at the end
of its transaction: the city's rows are not held locked for the whole import, the totals equal
a recount afterwards, and an import that fails writes none."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds.models import DonationMonthTotal, Fund
from funds.totals import DONATIONS, totals_check
from imports import services
from imports.models import ImportJob, ImportStatus
from scholarships.models import Award, AwardMonthTotal
from scholarships.totals import AWARDS
from tests.funds.test_donation_import import (  # noqa: F401 — its fixture
    DONATION_HEADERS,
    PHUC_XA_FUND,
    _media_and_english,
    donation_row,
    xlsx,
)
from tests.scholarships.test_award_import import AWARD_HEADERS, award_row, phuc_xa_round  # noqa: F401 — its fixture

CLAN_FUND = "Quỹ khuyến học dòng họ Nguyễn Phúc Xá"


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    """Three rows a chunk, one chunk a write: an import of N rows is N/3 writes."""
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    monkeypatch.setattr(services, "WRITE_CHUNKS", 1)


def _donations(count: int, start: int = 0) -> list[list]:
    return [
        donation_row(
            PHUC_XA_FUND if i % 2 else CLAN_FUND,
            day=datetime.date(2024, 1 + i % 12, 1 + i % 27).strftime("%d/%m/%Y"),
            donor=f"Người ủng hộ {i}",
            amount=f"{(i + 1) * 1000}",
        )
        for i in range(start, start + count)
    ]


def _awards(count: int, start: int = 0) -> list[list]:
    rows = []
    for i in range(start, start + count):
        row = award_row(f"Học sinh {i}", born=f"{1 + i % 27:02d}/{1 + i // 27:02d}/2008", amount="1.000")
        row[-1] = datetime.date(2024, 1 + i % 12, 5).strftime("%d/%m/%Y")  # "Ngày chi"
        rows.append(row)
    return rows


def _import(cast, tree, kind, headers, rows, name):
    """Check, then apply; returns (the job, the statements on the totals tables during the apply)."""
    job = services.job_create(
        actor=cast.commune_clerk, kind=kind, branch=tree.phuc_xa, upload=xlsx(headers, rows, name=name)
    )
    services.job_check(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED, job.errors[:3] or job.message
    assert services.job_start_apply(job)
    with CaptureQueriesContext(connection) as queries:
        services.job_apply(job.pk)
    job.refresh_from_db()
    tables = (DonationMonthTotal._meta.db_table, AwardMonthTotal._meta.db_table)
    return job, [query["sql"] for query in queries if any(table in query["sql"] for table in tables)]


def test_a_donation_import_writes_its_totals_in_one_statement_whatever_its_rows(cast, tree, funds):
    small, small_statements = _import(cast, tree, "donations", DONATION_HEADERS, _donations(6), "nho.xlsx")
    large, large_statements = _import(cast, tree, "donations", DONATION_HEADERS, _donations(30, start=6), "lon.xlsx")

    assert (small.status, large.status) == (ImportStatus.APPLIED, ImportStatus.APPLIED), large.message
    assert len(small_statements) == len(large_statements) == 1
    assert totals_check(DONATIONS) == []
    city = DonationMonthTotal.objects.filter(branch=tree.city)
    assert sum(row.count for row in city) == 36
    assert sum(row.amount for row in city) == sum((i + 1) * 1000 for i in range(36))
    assert city.filter(month=datetime.date(2024, 12, 1)).exists()  # twelve months of 2024


def test_an_award_import_writes_its_totals_in_one_statement_whatever_its_rows(cast, tree, funds, phuc_xa_round):  # noqa: F811
    small, small_statements = _import(cast, tree, "awards", AWARD_HEADERS, _awards(6), "nho.xlsx")
    large, large_statements = _import(cast, tree, "awards", AWARD_HEADERS, _awards(30, start=6), "lon.xlsx")

    assert (small.status, large.status) == (ImportStatus.APPLIED, ImportStatus.APPLIED), large.message
    assert len(small_statements) == len(large_statements) == 1
    assert totals_check(AWARDS) == []
    city = AwardMonthTotal.objects.filter(branch=tree.city)
    assert (sum(row.count for row in city), sum(row.amount for row in city)) == (36, 36_000)


def test_an_import_refused_in_its_last_write_leaves_the_stored_totals_as_they_were(cast, tree, funds, phuc_xa_round):  # noqa: F811
    before = list(AwardMonthTotal.objects.values_list("branch", "month", "count", "amount").order_by("pk"))
    job = services.job_create(
        actor=cast.commune_clerk,
        kind="awards",
        branch=tree.phuc_xa,
        upload=xlsx(AWARD_HEADERS, _awards(12), name="hoc-bong.xlsx"),
    )
    services.job_check(job.pk)
    # As if another payment went first: the fund can pay the first ten awards only.
    Fund.objects.filter(pk=funds.phuc_xa.pk).update(balance=10_000)
    assert services.job_start_apply(ImportJob.objects.get(pk=job.pk))

    services.job_apply(job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert Award.objects.count() == 0
    assert list(AwardMonthTotal.objects.values_list("branch", "month", "count", "amount").order_by("pk")) == before
