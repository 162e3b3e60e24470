"""Excel import of donations: template, dry run, all-or-nothing apply through the ledger, refusals."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from associations.models import AuditAction, AuditEntry
from funds.models import Donation, Fund, LedgerEntry, LedgerKind, ReceiptCounter
from imports import services
from imports.models import ImportJob, ImportStatus
from tests.factories import donate

DONATION_HEADERS = [
    "Quỹ",
    "Đơn vị hội (mã hoặc tên)",
    "Số biên lai",
    "Ngày nhận",
    "Người ủng hộ",
    "Loại người ủng hộ",
    "Số tiền (đồng)",
    "Hình thức",
    "Hiện vật",
    "Ghi chú",
]
PHUC_XA_FUND = "Quỹ Khuyến học phường Phúc Xá"


def xlsx(headers, rows, name="ung-ho.xlsx", title="Ủng hộ") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return SimpleUploadedFile(name, output.getvalue())


def donation_row(fund=PHUC_XA_FUND, *, receipt=None, day="15/03/2017", donor="Nguyễn Văn An", amount="1.500.000"):
    return [fund, None, receipt, day, donor, "Cá nhân", amount, "Tiền mặt", None, None]


@pytest.fixture(autouse=True)
def _media_and_english(settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages are asserted in their English source
    with translation.override("en"):
        yield


@pytest.fixture
def upload(client_for, eager, django_capture_on_commit_callbacks):
    def send(user, kind, file):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).post(reverse("imports:start", args=[kind]), {"file": file})
        assert response.status_code == 302, response.content.decode()[:2000]
        job = ImportJob.objects.latest("id")
        job.refresh_from_db()
        return job

    return send


@pytest.fixture
def apply(client_for, eager, django_capture_on_commit_callbacks):
    def send(user, job):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).post(reverse("imports:apply", args=[job.pk]))
        assert response.status_code == 302
        job.refresh_from_db()
        return job

    return send


def errors_of(job) -> set[tuple]:
    return {(error["row"], error["column"]) for error in job.errors}


def assert_balances_match_ledgers() -> None:
    for fund in Fund.objects.all():
        assert fund.balance == (fund.ledger_entries.aggregate(total=Sum("amount"))["total"] or 0), fund


# --- The template -----------------------------------------------------------------------------


def test_the_template_has_the_donation_columns_and_an_instructions_sheet(client_for, cast):
    response = client_for(cast.commune_clerk).get(reverse("imports:template", args=["donations"]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Ủng hộ", "Hướng dẫn"]
    assert [cell.value for cell in workbook.worksheets[0][1]] == DONATION_HEADERS
    guide = "\n".join(str(cell.value) for row in workbook["Hướng dẫn"].iter_rows() for cell in row if cell.value)
    for header in DONATION_HEADERS:
        assert header in guide
    assert "1.500.000" in guide
    assert "issues the next receipt number" in guide


def test_the_donations_list_offers_import_to_writers_only(client_for, cast, funds):
    page = client_for(cast.commune_clerk).get(reverse("funds:donation_list")).content.decode()
    assert reverse("imports:start", args=["donations"]) in page
    page = client_for(cast.district_leader).get(reverse("funds:donation_list")).content.decode()
    assert reverse("imports:start", args=["donations"]) not in page


# --- Check and apply ----------------------------------------------------------------------------


def test_a_good_file_is_checked_then_applied_through_the_ledger(upload, apply, cast, funds):
    rows = [
        donation_row(amount=1500000),
        donation_row(donor="Trần Thị Bình", amount="1.500.000"),
        donation_row(donor="Công ty ABC", amount="1,500,000 đ"),
        donation_row(PHUC_XA_FUND.upper(), donor="Lê Văn Cường", amount="2.000.000"),
    ]
    job = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, rows))
    assert job.status == ImportStatus.CHECKED, job.errors or job.message
    assert (job.total_rows, job.to_create, job.unchanged, job.error_count) == (4, 4, 0, 0)
    assert Donation.objects.count() == 0 and LedgerEntry.objects.count() == 0  # the check writes nothing

    job = apply(cast.commune_clerk, job)
    assert job.status == ImportStatus.APPLIED, job.message
    donations = list(Donation.objects.order_by("receipt_number"))
    assert [d.amount for d in donations] == [1_500_000, 1_500_000, 1_500_000, 2_000_000]
    # Receipt numbers issued gaplessly, in file order, for the fund and year.
    assert [(d.receipt_year, d.receipt_number) for d in donations] == [(2017, n) for n in (1, 2, 3, 4)]
    assert ReceiptCounter.objects.get(fund=funds.phuc_xa, year=2017).last_number == 4
    assert LedgerEntry.objects.filter(kind=LedgerKind.DONATION).count() == 4
    assert {entry.donation_id for entry in LedgerEntry.objects.all()} == {d.pk for d in donations}
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 6_500_000
    assert_balances_match_ledgers()
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id__in=[str(d.pk) for d in donations]).count()
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_new_donations_continue_the_numbers_already_issued(upload, apply, cast, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 100_000)
    donate(cast.commune_clerk, funds.phuc_xa, 200_000, donor_name="Trần Văn Bảo")
    job = apply(cast.commune_clerk, upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, [donation_row()])))
    assert job.status == ImportStatus.APPLIED, job.message
    assert Donation.objects.order_by("-receipt_number").first().receipt_number == 3
    assert_balances_match_ledgers()


def test_importing_the_same_file_again_changes_nothing(upload, apply, cast, funds):
    file_rows = [donation_row(), donation_row(donor="Trần Thị Bình", amount="2.000.000")]
    apply(cast.commune_clerk, upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, file_rows)))
    before = (Donation.objects.count(), LedgerEntry.objects.count(), AuditEntry.objects.count())

    again = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, file_rows))
    assert again.status == ImportStatus.CHECKED, again.errors
    assert (again.to_create, again.unchanged) == (0, 2)
    again = apply(cast.commune_clerk, again)
    assert again.status == ImportStatus.APPLIED
    assert (Donation.objects.count(), LedgerEntry.objects.count(), AuditEntry.objects.count()) == before

    # The same donations named by the receipt numbers the portal issued change nothing either.
    numbered = [donation_row(receipt="00001/2017"), donation_row(receipt=2, donor="Trần Thị Bình", amount=2000000)]
    third = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, numbered))
    assert (third.status, third.to_create, third.unchanged) == (ImportStatus.CHECKED, 0, 2), third.errors
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 3_500_000


def test_a_file_with_bad_rows_writes_nothing_and_reports_each_row(upload, apply, cast, funds):
    rows = [
        donation_row(),  # good
        donation_row(amount="1.5"),  # a decimal, never guessed
        donation_row(amount="1,50"),
        donation_row(day="31/02/2017"),  # no such day
        donation_row("Quỹ không có"),  # unknown fund
        donation_row(funds.hoan_kiem.name),  # a sibling district's fund
        donation_row(receipt="00099/2017"),  # a number the portal never issued
        donation_row(day="15/03/2099"),  # in the future
        donation_row(amount="-5"),
        [PHUC_XA_FUND, None, None, "15/03/2017", "Nguyễn Văn Ấn", "Cá nhân", "500.000", "Hiện vật", None, None],
        donation_row(),  # the same donation as row 2
    ]
    job = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, rows))
    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {
        (3, "Số tiền (đồng)"),
        (4, "Số tiền (đồng)"),
        (5, "Ngày nhận"),
        (6, "Quỹ"),
        (7, "Quỹ"),
        (8, "Số biên lai"),
        (9, "Ngày nhận"),
        (10, "Số tiền (đồng)"),
        (11, "Hiện vật"),
        (12, "Người ủng hộ"),
    }
    messages = {(error["row"], error["column"]): error["message"] for error in job.errors}
    assert "1500000, 1.500.000 or 1,500,000" in messages[(3, "Số tiền (đồng)")]
    assert "No fund named" in messages[(7, "Quỹ")]
    assert "issued by the portal" in messages[(8, "Số biên lai")]
    assert "Row 2 of this file is the same donation" in messages[(12, "Người ủng hộ")]
    assert Donation.objects.count() == 0 and LedgerEntry.objects.count() == 0

    response = apply(cast.commune_clerk, job)  # an invalid job cannot be applied
    assert response.status == ImportStatus.INVALID
    assert Donation.objects.count() == 0


def test_the_errors_are_in_vietnamese_for_a_vietnamese_clerk(upload, cast, funds, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    job = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, [donation_row(day="31/02/2017")]))
    assert job.status == ImportStatus.INVALID
    assert job.errors == [
        {"row": 2, "column": "Ngày nhận", "message": "Ngày này không có thật trên lịch; xin kiểm tra lại."}
    ]


def test_an_amount_differing_from_the_recorded_receipt_is_refused_not_edited(upload, cast, funds):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 1_500_000, donor_name="Nguyễn Văn An")
    job = upload(
        cast.commune_clerk,
        "donations",
        xlsx(DONATION_HEADERS, [donation_row(receipt=donation.receipt_label, amount="2.000.000")]),
    )
    assert job.status == ImportStatus.INVALID
    assert errors_of(job) == {(2, "Số tiền (đồng)")}
    assert "void the receipt" in job.errors[0]["message"]
    donation.refresh_from_db()
    assert donation.amount == 1_500_000


def test_a_voided_receipt_cannot_be_imported_again(upload, cast, funds):
    from funds import services

    donation = donate(cast.commune_clerk, funds.phuc_xa, 1_500_000, donor_name="Nguyễn Văn An")
    services.donation_void(actor=cast.commune_clerk, donation=donation, reason="typed twice")
    job = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, [donation_row(receipt=1)]))
    assert job.status == ImportStatus.INVALID
    assert "was voided" in job.errors[0]["message"]


def test_a_fund_name_shared_by_two_units_needs_the_unit(upload, apply, cast, funds, tree):
    Fund.objects.filter(pk=funds.truc_bach.pk).update(name=PHUC_XA_FUND)
    job = upload(cast.manager, "donations", xlsx(DONATION_HEADERS, [donation_row()]))
    assert job.status == ImportStatus.INVALID
    assert "type the fund's unit" in job.errors[0]["message"]
    row = donation_row()
    row[1] = tree.truc_bach.code
    job = apply(cast.manager, upload(cast.manager, "donations", xlsx(DONATION_HEADERS, [row])))
    assert job.status == ImportStatus.APPLIED, job.errors
    assert Donation.objects.get().fund_id == funds.truc_bach.pk


# --- Refusals -----------------------------------------------------------------------------------


def test_a_leader_may_not_import_donations(client_for, cast, funds):
    client = client_for(cast.district_leader)
    assert client.get(reverse("imports:start", args=["donations"])).status_code == 403
    response = client.post(
        reverse("imports:start", args=["donations"]), {"file": xlsx(DONATION_HEADERS, [donation_row()])}
    )
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def test_the_import_page_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("imports:start", args=["donations"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_cannot_see_or_apply_another_districts_import(upload, client_for, cast, funds):
    job = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, [donation_row()]))
    client = client_for(cast.sibling_clerk)
    assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:apply", args=[job.pk])).status_code == 404


# --- Scale ------------------------------------------------------------------------------------------


def _many(count: int) -> list[list]:
    start = datetime.date(2017, 1, 1)
    return [
        donation_row(day=(start + datetime.timedelta(days=i % 300)).strftime("%d/%m/%Y"), donor=f"Người {i}")
        for i in range(count)
    ]


def _check_queries(job) -> int:
    with CaptureQueriesContext(connection) as queries:
        services.job_check(job.pk)
    job.refresh_from_db()
    assert (job.status, job.to_create) == (ImportStatus.CHECKED, job.total_rows), job.errors[:3]
    return len(queries)


def test_the_check_makes_the_same_number_of_queries_for_20_or_400_rows(cast, tree, funds):
    small = services.job_create(
        actor=cast.commune_clerk, kind="donations", branch=tree.phuc_xa, upload=xlsx(DONATION_HEADERS, _many(20))
    )
    large = services.job_create(
        actor=cast.commune_clerk, kind="donations", branch=tree.phuc_xa, upload=xlsx(DONATION_HEADERS, _many(400))
    )
    assert _check_queries(small) == _check_queries(large)


def test_a_chunked_apply_makes_a_fixed_number_of_queries_per_chunk(
    cast, tree, funds, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 100)
    job = services.job_create(
        actor=cast.commune_clerk, kind="donations", branch=tree.phuc_xa, upload=xlsx(DONATION_HEADERS, _many(500))
    )
    services.job_check(job.pk)
    assert services.job_start_apply(job)
    with django_assert_max_num_queries(15 + 5 * 12):
        services.job_apply(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED, job.message
    assert Donation.objects.count() == 500
    assert sorted(Donation.objects.values_list("receipt_number", flat=True)) == list(range(1, 501))
    assert_balances_match_ledgers()
