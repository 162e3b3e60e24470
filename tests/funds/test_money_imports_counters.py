"""The receipt counters and fund balances of a batch of donations are written with one set-based
UPDATE per table (funds.services.ledger.column_update): the numbering, the balances and the
ledger stay what they were with Django's bulk_update."""

import datetime

import pytest
from django.db.models import Sum

from funds.models import Donation, Fund, LedgerEntry, ReceiptCounter
from funds.services import donations_record
from funds.services.ledger import column_update
from tests.factories import donate

pytestmark = pytest.mark.django_db
D = datetime.date


def _donation(fund, amount, day, name="Nguyễn Văn Ấn"):
    return Donation(fund_id=fund.pk, donor_name=name, donor_kind="individual", amount=amount, received_on=day)


def test_a_batch_over_two_funds_and_two_years_numbers_each_fund_and_year_from_where_it_stood(cast, funds):
    donate(cast.admin, funds.phuc_xa, 1_000_000, day=D(2020, 3, 1))
    donate(cast.admin, funds.phuc_xa, 2_000_000, day=D(2020, 3, 2))
    batch = [
        _donation(funds.phuc_xa, 100_000, D(2020, 4, 1)),
        _donation(funds.truc_bach, 200_000, D(2020, 4, 1)),
        _donation(funds.phuc_xa, 300_000, D(2019, 12, 30)),
        _donation(funds.phuc_xa, 400_000, D(2020, 4, 2)),
        _donation(funds.truc_bach, 500_000, D(2019, 5, 5)),
    ]
    donations_record(actor=cast.admin, donations=batch)
    assert [(d.fund_id, d.receipt_year, d.receipt_number) for d in batch] == [
        (funds.phuc_xa.pk, 2020, 3),
        (funds.truc_bach.pk, 2020, 1),
        (funds.phuc_xa.pk, 2019, 1),
        (funds.phuc_xa.pk, 2020, 4),
        (funds.truc_bach.pk, 2019, 1),
    ]
    stored = {(c.fund_id, c.year): c.last_number for c in ReceiptCounter.objects.all()}
    assert stored == {
        (funds.phuc_xa.pk, 2020): 4,
        (funds.phuc_xa.pk, 2019): 1,
        (funds.truc_bach.pk, 2020): 1,
        (funds.truc_bach.pk, 2019): 1,
    }
    donate(cast.admin, funds.truc_bach, 50_000, day=D(2020, 4, 3))  # the next receipt follows on
    latest = Donation.objects.filter(fund=funds.truc_bach, receipt_year=2020).order_by("-receipt_number").first()
    assert latest.receipt_number == 2


def test_after_a_batch_every_fund_holds_its_ledger_and_untouched_funds_keep_theirs(cast, funds):
    donate(cast.admin, funds.hoan_kiem, 7_000_000, day=D(2020, 1, 2))
    donations_record(
        actor=cast.admin,
        donations=[_donation(funds.phuc_xa, 100_000 * n, D(2020, 2, n)) for n in range(1, 6)]
        + [_donation(funds.ba_dinh, 1_000_000, D(2020, 2, 9))],
    )
    ledger = dict(LedgerEntry.objects.values("fund").annotate(total=Sum("amount")).values_list("fund", "total"))
    balances = dict(Fund.objects.values_list("pk", "balance"))
    assert balances[funds.phuc_xa.pk] == 1_500_000 == ledger[funds.phuc_xa.pk]
    assert balances[funds.ba_dinh.pk] == 1_000_000 == ledger[funds.ba_dinh.pk]
    assert balances[funds.hoan_kiem.pk] == 7_000_000
    assert balances[funds.city.pk] == balances[funds.truc_bach.pk] == 0


def test_column_update_writes_the_given_rows_only(funds):
    phuc_xa, truc_bach = Fund.objects.get(pk=funds.phuc_xa.pk), Fund.objects.get(pk=funds.truc_bach.pk)
    phuc_xa.balance, truc_bach.balance = 12_345, 2**40  # a bigint
    column_update([phuc_xa, truc_bach], "balance")
    balances = dict(Fund.objects.values_list("pk", "balance"))
    assert (balances.pop(funds.phuc_xa.pk), balances.pop(funds.truc_bach.pk)) == (12_345, 2**40)
    assert set(balances.values()) == {0}
