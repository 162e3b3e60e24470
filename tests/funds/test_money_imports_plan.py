"""The donation and award imports apply the plan their check kept, without reading the
workbook again, as long as nothing it relied on moved; receipts and balances stay right."""
# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

from associations.audit import snapshot, snapshotter
from funds.models import Donation, LedgerEntry, LedgerKind, ReceiptCounter
from imports import services
from imports.models import ImportStatus
from scholarships.models import Award
from tests.factories import donate
from tests.funds.test_donation_import import (  # noqa: F401  (shared fixtures)
    DONATION_HEADERS,
    _media_and_english,
    apply,
    assert_balances_match_ledgers,
    donation_row,
    upload,
    xlsx,
)
from tests.scholarships.test_award_import import award_row, awards_file, phuc_xa_round  # noqa: F401


def _no_reading(*args, **kwargs):
    raise AssertionError("the apply read the workbook again")


def test_a_checked_donations_file_is_applied_from_its_plan_with_gapless_receipts(
    upload, apply, cast, funds, monkeypatch
):
    rows = [donation_row(), donation_row(donor="Trần Thị Bình", amount="2.000.000")]
    job = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, rows))
    assert job.status == ImportStatus.CHECKED and job.plan
    # Between check and apply, a clerk records a donation by hand: it takes receipt 1.
    donate(cast.commune_clerk, funds.phuc_xa, 100_000, donor_name="Trần Văn Bảo")
    monkeypatch.setattr(services, "Sheet", _no_reading)

    job = apply(cast.commune_clerk, job)

    assert job.status == ImportStatus.APPLIED, job.message
    issued = Donation.objects.filter(fund=funds.phuc_xa, receipt_year=2017).order_by("receipt_number")
    # The numbers continue the one issued meanwhile, in file order, without a gap.
    assert [(d.donor_name, d.receipt_number) for d in issued] == [
        ("Trần Văn Bảo", 1),
        ("Nguyễn Văn An", 2),
        ("Trần Thị Bình", 3),
    ]
    assert ReceiptCounter.objects.get(fund=funds.phuc_xa, year=2017).last_number == 3
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 100_000 + 1_500_000 + 2_000_000
    assert_balances_match_ledgers()


def test_the_same_donations_recorded_by_another_import_meanwhile_refuse_the_apply(upload, apply, cast, funds):
    rows = [donation_row(), donation_row(donor="Trần Thị Bình", amount="2.000.000")]
    first = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, rows))
    second = upload(cast.commune_clerk, "donations", xlsx(DONATION_HEADERS, rows, name="lan-hai.xlsx"))
    assert (first.to_create, second.to_create) == (2, 2)
    assert apply(cast.commune_clerk, first).status == ImportStatus.APPLIED

    second = apply(cast.commune_clerk, second)

    assert second.status == ImportStatus.FAILED
    assert "the donation of row 2 was recorded meanwhile" in second.message
    assert Donation.objects.count() == 2  # recorded once
    assert_balances_match_ledgers()


def test_a_checked_awards_file_is_applied_from_its_plan(upload, apply, cast, funds, phuc_xa_round, monkeypatch):
    rows = [award_row(amount="500.000"), award_row("Trần Văn Cường", born="01/09/2006", amount="700.000")]
    job = upload(cast.commune_clerk, "awards", awards_file(rows))
    assert job.status == ImportStatus.CHECKED and job.plan
    monkeypatch.setattr(services, "Sheet", _no_reading)

    job = apply(cast.commune_clerk, job)

    assert job.status == ImportStatus.APPLIED, job.message
    assert sorted(Award.objects.values_list("recipient_name", "amount")) == [
        ("Lê Thị Bích", 500_000),
        ("Trần Văn Cường", 700_000),
    ]
    assert LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT).count() == 2
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 2_000_000 - 1_200_000
    assert_balances_match_ledgers()


def test_an_award_recorded_meanwhile_for_the_same_recipient_refuses_the_apply(
    upload, apply, cast, funds, phuc_xa_round
):
    rows = [award_row(amount="500.000")]
    first = upload(cast.commune_clerk, "awards", awards_file(rows))
    second = upload(cast.commune_clerk, "awards", awards_file(rows))
    assert apply(cast.commune_clerk, first).status == ImportStatus.APPLIED

    second = apply(cast.commune_clerk, second)

    assert second.status == ImportStatus.FAILED
    assert "the award of row 2 was recorded meanwhile" in second.message
    assert Award.objects.count() == 1
    assert_balances_match_ledgers()


def test_a_batch_audits_each_record_as_a_single_save_would(cast, funds):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 150_000, method="bank")
    fields = ["fund", "donor_name", "donor_kind", "amount", "received_on", "method", "note"]
    assert snapshotter(Donation, fields)(donation) == snapshot(donation, fields)
    assert snapshotter(Donation, fields)(donation)["method"] == "Bank transfer"
