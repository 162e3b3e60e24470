"""Excel import of scholarship awards: paid through the funds' ledger, refused whole on overdraft."""
# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from funds.models import Fund, LedgerEntry, LedgerKind
from imports import services
from imports.models import ImportJob, ImportStatus
from scholarships.models import Award
from tests.factories import donate, make_round
from tests.funds.test_donation_import import (  # noqa: F401  (shared fixtures)
    _media_and_english,
    apply,
    assert_balances_match_ledgers,
    errors_of,
    upload,
    xlsx,
)

AWARD_HEADERS = [
    "Đợt học bổng",
    "Đơn vị hội (mã hoặc tên)",
    "Họ và tên người nhận",
    "Ngày sinh",
    "Số CCCD/mã học sinh",
    "Đối tượng nhận",
    "Trường hoặc nơi công tác",
    "Lớp",
    "Loại học bổng",
    "Số tiền (đồng)",
    "Hình thức",
    "Hiện vật",
    "Ngày chi",
]
ROUND = "Học bổng năm học 2016-2017"


def award_row(name="Lê Thị Bích", *, born="02/04/2005", recipient_id=None, amount="500.000", round_name=ROUND):
    return [round_name, None, name, born, recipient_id, "Học sinh/sinh viên", None, "7A", "Học sinh nghèo vượt khó",
            amount, None, None, None]  # fmt: skip


@pytest.fixture
def phuc_xa_round(cast, tree, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 2_000_000)
    return make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)


def awards_file(rows):
    return xlsx(AWARD_HEADERS, rows, name="hoc-bong.xlsx", title="Học bổng")


def test_the_template_has_the_award_columns_and_an_instructions_sheet(client_for, cast):
    response = client_for(cast.commune_clerk).get(reverse("imports:template", args=["awards"]))
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Học bổng", "Hướng dẫn"]
    assert [cell.value for cell in workbook.worksheets[0][1]] == AWARD_HEADERS
    guide = "\n".join(str(cell.value) for row in workbook["Hướng dẫn"].iter_rows() for cell in row if cell.value)
    for header in AWARD_HEADERS:
        assert header in guide
    assert "below zero" in guide


def test_the_awards_list_offers_import_to_writers_only(client_for, cast, funds):
    page = client_for(cast.commune_clerk).get(reverse("scholarships:award_list")).content.decode()
    assert reverse("imports:start", args=["awards"]) in page
    page = client_for(cast.district_leader).get(reverse("scholarships:award_list")).content.decode()
    assert reverse("imports:start", args=["awards"]) not in page


def test_a_good_file_pays_every_award_from_the_rounds_fund(upload, apply, cast, funds, phuc_xa_round):
    rows = [
        award_row(amount=500000),
        award_row("Trần Văn Cường", born="01/09/2006", amount="500.000"),
        award_row("Phạm Thị Dung", born=None, recipient_id="001306000123", amount="500,000"),
    ]
    job = upload(cast.commune_clerk, "awards", awards_file(rows))
    assert job.status == ImportStatus.CHECKED, job.errors or job.message
    assert (job.to_create, job.unchanged) == (3, 0)
    assert Award.objects.count() == 0

    job = apply(cast.commune_clerk, job)
    assert job.status == ImportStatus.APPLIED, job.message
    awards = list(Award.objects.all())
    assert len(awards) == 3
    assert {award.paid_on for award in awards} == {phuc_xa_round.awarded_on}  # empty "Ngày chi": the round's date
    assert {award.recipient_key for award in awards} >= {"id:001306000123"}
    payments = LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT)
    assert sorted(entry.amount for entry in payments) == [-500_000] * 3
    assert {entry.payment_id for entry in payments} == {award.payment_id for award in awards}
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 500_000
    assert_balances_match_ledgers()

    again = upload(cast.commune_clerk, "awards", awards_file(rows))
    assert (again.status, again.to_create, again.unchanged) == (ImportStatus.CHECKED, 0, 3), again.errors
    apply(cast.commune_clerk, again)
    assert Award.objects.count() == 3 and LedgerEntry.objects.count() == 4  # one donation + three payments


def test_a_file_that_would_overdraw_a_fund_is_refused_whole(upload, apply, cast, funds, phuc_xa_round):
    rows = [award_row(f"Học sinh {i}", amount="500.000") for i in range(5)]  # 2 500 000 from a fund of 2 000 000
    job = upload(cast.commune_clerk, "awards", awards_file(rows))
    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {(None, "Số tiền (đồng)")}
    assert "would take 2.500.000 ₫ from the fund" in job.errors[0]["message"]
    assert Award.objects.count() == 0


def test_the_apply_refuses_under_the_lock_when_the_balance_fell_meanwhile(upload, apply, cast, funds, phuc_xa_round):
    job = upload(cast.commune_clerk, "awards", awards_file([award_row(amount="1.500.000")]))
    assert job.status == ImportStatus.CHECKED
    Fund.objects.filter(pk=funds.phuc_xa.pk).update(balance=1_000_000)  # as if another payment went first
    job = apply(cast.commune_clerk, job)
    assert job.status == ImportStatus.FAILED
    assert Award.objects.count() == 0
    assert LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT).count() == 0


def test_a_file_with_bad_rows_writes_nothing_and_reports_each_row(upload, cast, funds, tree, phuc_xa_round):
    sibling_fund_round = make_round(cast.sibling_clerk, tree.hoan_kiem, funds.hoan_kiem, name="Học bổng Hoàn Kiếm")
    rows = [
        award_row(),
        award_row("A", amount="1.5"),
        award_row("B", amount="1,50"),
        award_row("C", round_name=sibling_fund_round.name),  # a sibling district's round
        award_row("D", born="01/01/2030"),  # born after the payment
        award_row(),  # the same recipient twice in the round
    ]
    job = upload(cast.commune_clerk, "awards", awards_file(rows))
    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {
        (3, "Số tiền (đồng)"),
        (4, "Số tiền (đồng)"),
        (5, "Đợt học bổng"),
        (6, "Ngày sinh"),
        (7, "Họ và tên người nhận"),
    }
    assert Award.objects.count() == 0


def test_an_amount_differing_from_the_recorded_award_is_refused_not_edited(upload, apply, cast, phuc_xa_round):
    apply(cast.commune_clerk, upload(cast.commune_clerk, "awards", awards_file([award_row()])))
    job = upload(cast.commune_clerk, "awards", awards_file([award_row(amount="700.000")]))
    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {(2, "Số tiền (đồng)")}
    assert "void the award" in job.errors[0]["message"]
    assert Award.objects.get().amount == 500_000


def test_a_leader_may_not_import_awards(client_for, cast, funds):
    response = client_for(cast.district_leader).post(
        reverse("imports:start", args=["awards"]), {"file": awards_file([award_row()])}
    )
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def _many(count: int) -> list[list]:
    start = datetime.date(2000, 1, 1)
    return [
        award_row(f"Học sinh {i}", born=(start + datetime.timedelta(days=i)).strftime("%d/%m/%Y"), amount="1.000")
        for i in range(count)
    ]


def _check_queries(job) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.job_check(job.pk)
    job.refresh_from_db()
    assert (job.status, job.to_create) == (ImportStatus.CHECKED, job.total_rows), job.errors[:3]
    return len(queries)


def test_the_check_makes_the_same_number_of_queries_for_20_or_400_rows(cast, tree, phuc_xa_round):
    small = services.job_create(
        actor=cast.commune_clerk, kind="awards", branch=tree.phuc_xa, upload=awards_file(_many(20))
    )
    large = services.job_create(
        actor=cast.commune_clerk, kind="awards", branch=tree.phuc_xa, upload=awards_file(_many(400))
    )
    assert _check_queries(small) == _check_queries(large)


def test_the_importer_keeps_one_instance_per_fund_and_branch_and_makes_rounds_on_demand(cast, tree, funds):
    """A city's importer reads its ~100 000 rounds as plain rows; the rounds a file names get
    their fund and awarding branch, shared between rounds (not one copy per round)."""
    from scholarships.imports import _Rounds

    donate(cast.commune_clerk, funds.phuc_xa, 2_000_000)
    first = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)
    second = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa, name="Học bổng năm học 2017-2018")
    rounds = _Rounds(tree.city)
    one, other = rounds.get(first.pk), rounds.get(second.pk)
    assert (one.name, one.awarded_on, other.name) == (first.name, first.awarded_on, "Học bổng năm học 2017-2018")
    assert one.fund is other.fund and one.fund.pk == funds.phuc_xa.pk
    assert one.branch is other.branch and one.branch.path == tree.phuc_xa.path
    assert one.fund.branch.pk == funds.phuc_xa.branch_id
    assert rounds.get(-1) is None
    assert len(rounds.funds) == len({row[4] for row in rounds.rows.values()})
