import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from associations.models import AuditAction, AuditEntry
from funds import services
from funds.models import Donation, DonationMethod, Fund, LedgerEntry, LedgerKind, Transfer
from khuyenhoc.signals import money_changed
from tests.factories import DAY, donate, make_round, pay

pytestmark = pytest.mark.django_db


def ledger_sum(fund) -> int:
    return LedgerEntry.objects.filter(fund=fund).aggregate(total=Sum("amount"))["total"] or 0


def test_a_donation_credits_its_fund_through_one_ledger_row(cast, funds):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 1_500_000)

    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 1_500_000
    entry = LedgerEntry.objects.get(donation=donation)
    assert (entry.fund, entry.amount, entry.kind, entry.occurred_on) == (funds.phuc_xa, 1_500_000, "donation", DAY)
    assert entry.created_by == cast.commune_clerk


def test_a_donation_leaves_an_audit_entry_and_announces_the_change(cast, funds):
    heard = []

    def receiver(sender, branch_id, **kwargs):
        heard.append((sender, branch_id))

    money_changed.connect(receiver)
    try:
        donation = donate(cast.commune_clerk, funds.phuc_xa, 200_000)
    finally:
        money_changed.disconnect(receiver)

    entry = AuditEntry.objects.for_object(donation).get()
    assert entry.action == AuditAction.CREATE
    assert entry.actor == cast.commune_clerk
    assert entry.branch == funds.phuc_xa.branch
    assert (Donation, funds.phuc_xa.branch_id) in heard


def test_receipt_numbers_run_per_fund_and_restart_each_year(cast, funds):
    first = donate(cast.commune_clerk, funds.phuc_xa, 100_000)
    second = donate(cast.commune_clerk, funds.phuc_xa, 100_000)
    other_fund = donate(cast.commune_clerk, funds.phuc_xa_clan, 100_000)
    next_year = donate(cast.commune_clerk, funds.phuc_xa, 100_000, day=datetime.date(2018, 1, 2))

    assert [first.receipt_number, second.receipt_number] == [1, 2]
    assert other_fund.receipt_number == 1
    assert (next_year.receipt_year, next_year.receipt_number) == (2018, 1)
    assert second.receipt_label == "00002/2017"


def test_a_refused_donation_writes_nothing_and_uses_no_receipt_number(cast, funds):
    with pytest.raises(ValidationError):
        donate(cast.commune_clerk, funds.phuc_xa, 100_000, method=DonationMethod.IN_KIND, in_kind_description="")
    assert not Donation.objects.exists()
    assert donate(cast.commune_clerk, funds.phuc_xa, 100_000).receipt_number == 1


@pytest.mark.parametrize("amount", [0, -5, 1.5])
def test_an_amount_that_is_not_a_positive_whole_number_of_dong_is_refused(cast, funds, amount):
    with pytest.raises(ValidationError):
        donate(cast.commune_clerk, funds.phuc_xa, amount)
    assert not LedgerEntry.objects.exists()


def test_a_donation_dated_in_the_future_or_after_the_fund_closed_is_refused(cast, funds):
    with pytest.raises(ValidationError):
        donate(cast.commune_clerk, funds.phuc_xa, 100_000, day=datetime.date.today() + datetime.timedelta(days=2))
    Fund.objects.filter(pk=funds.phuc_xa.pk).update(closed_on=datetime.date(2016, 12, 31))
    funds.phuc_xa.refresh_from_db()
    with pytest.raises(ValidationError, match="31/12/2016"):
        donate(cast.commune_clerk, funds.phuc_xa, 100_000)


def test_a_clerk_cannot_record_money_into_a_fund_of_another_district(cast, funds):
    with pytest.raises(PermissionDenied):
        donate(cast.sibling_clerk, funds.phuc_xa, 100_000)
    with pytest.raises(PermissionDenied):
        services.transfer_record(
            actor=cast.sibling_clerk, from_fund=funds.hoan_kiem, to_fund=funds.ba_dinh, amount=1, transferred_on=DAY
        )
    assert not LedgerEntry.objects.exists()


def test_a_payment_larger_than_the_balance_is_refused_with_a_clear_message(cast, funds, tree):
    donate(cast.commune_clerk, funds.phuc_xa, 1_000_000)
    scholarship_round = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)

    with pytest.raises(ValidationError) as refused:
        pay(cast.commune_clerk, scholarship_round, 1_000_001)

    assert "1.000.000 ₫" in refused.value.messages[0]
    assert "1.000.001 ₫" in refused.value.messages[0]
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 1_000_000
    assert not scholarship_round.awards.exists()


def test_the_database_itself_refuses_a_negative_balance(funds):
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=funds.phuc_xa.pk).update(balance=-1)


def test_voiding_a_donation_reverses_its_ledger_row_and_keeps_both_in_the_history(cast, funds):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 700_000)
    donate(cast.commune_clerk, funds.phuc_xa, 300_000)

    services.donation_void(actor=cast.commune_clerk, donation=donation, reason="Nhập sai số tiền")

    donation.refresh_from_db()
    assert donation.is_voided and donation.void_reason == "Nhập sai số tiền"
    assert donation.voided_by == cast.commune_clerk
    original, reversal = LedgerEntry.objects.filter(donation=donation).order_by("id")
    assert (original.amount, reversal.amount) == (700_000, -700_000)
    assert reversal.kind == LedgerKind.REVERSAL and reversal.reverses == original
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 300_000 == ledger_sum(funds.phuc_xa)
    assert AuditEntry.objects.for_object(donation).filter(action=AuditAction.VOID).count() == 1
    assert donation.receipt_number == 1  # a voided receipt keeps its number; numbers are never reused
    assert donate(cast.commune_clerk, funds.phuc_xa, 1).receipt_number == 3


def test_a_record_is_voided_only_once_and_only_with_a_reason(cast, funds):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 700_000)
    with pytest.raises(ValidationError):
        services.donation_void(actor=cast.commune_clerk, donation=donation, reason="  ")
    services.donation_void(actor=cast.commune_clerk, donation=donation, reason="Trùng phiếu")
    with pytest.raises(ValidationError):
        services.donation_void(actor=cast.commune_clerk, donation=donation, reason="Lần nữa")
    assert LedgerEntry.objects.filter(donation=donation).count() == 2


def test_a_donation_already_spent_cannot_be_voided(cast, funds, tree):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 500_000)
    pay(cast.commune_clerk, make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa), 400_000)

    with pytest.raises(ValidationError, match=r"100\.000 ₫"):
        services.donation_void(actor=cast.commune_clerk, donation=donation, reason="Nhầm quỹ")

    donation.refresh_from_db()
    assert not donation.is_voided
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 100_000


def test_a_transfer_moves_money_between_funds_and_its_void_moves_it_back(cast, funds):
    donate(cast.manager, funds.ba_dinh, 5_000_000)
    transfer = services.transfer_record(
        actor=cast.manager, from_fund=funds.ba_dinh, to_fund=funds.phuc_xa, amount=2_000_000, transferred_on=DAY
    )
    funds.ba_dinh.refresh_from_db()
    funds.phuc_xa.refresh_from_db()
    assert (funds.ba_dinh.balance, funds.phuc_xa.balance) == (3_000_000, 2_000_000)
    assert sorted(transfer.ledger_entries.values_list("kind", "amount")) == [
        ("transfer_in", 2_000_000),
        ("transfer_out", -2_000_000),
    ]

    services.transfer_void(actor=cast.manager, transfer=transfer, reason="Chuyển nhầm")

    for fund in (funds.ba_dinh, funds.phuc_xa):
        fund.refresh_from_db()
        assert fund.balance == ledger_sum(fund)
    assert (funds.ba_dinh.balance, funds.phuc_xa.balance) == (5_000_000, 0)
    assert transfer.ledger_entries.count() == 4


def test_a_transfer_larger_than_the_balance_or_to_the_same_fund_is_refused(cast, funds):
    donate(cast.manager, funds.ba_dinh, 1_000)
    with pytest.raises(ValidationError):
        services.transfer_record(
            actor=cast.manager, from_fund=funds.ba_dinh, to_fund=funds.phuc_xa, amount=1_001, transferred_on=DAY
        )
    with pytest.raises(ValidationError):
        services.transfer_record(
            actor=cast.manager, from_fund=funds.ba_dinh, to_fund=funds.ba_dinh, amount=1, transferred_on=DAY
        )
    assert not Transfer.objects.exists()


def test_every_balance_equals_the_sum_of_its_ledger_after_a_mixed_history(cast, funds, tree):
    scholarship_round = make_round(cast.manager, tree.ba_dinh, funds.ba_dinh)
    donations = [donate(cast.manager, funds.ba_dinh, amount) for amount in (1_000_000, 2_500_000, 750_000)]
    awards = [pay(cast.manager, scholarship_round, amount) for amount in (500_000, 300_000)]
    services.transfer_record(
        actor=cast.manager, from_fund=funds.ba_dinh, to_fund=funds.truc_bach, amount=900_000, transferred_on=DAY
    )
    services.donation_void(actor=cast.manager, donation=donations[2], reason="Sai")
    from scholarships.services import award_void

    award_void(actor=cast.manager, award=awards[0], reason="Trao nhầm")

    for fund in Fund.objects.all():
        assert fund.balance == ledger_sum(fund), fund
    funds.ba_dinh.refresh_from_db()
    assert funds.ba_dinh.balance == 1_000_000 + 2_500_000 - 300_000 - 900_000


def test_fund_models_seeded_for_hanoi_are_at_least_seven(db):
    from funds.models import FundModel

    assert FundModel.objects.filter(active=True).count() >= 7
