"""funds 0004-0006 and scholarships 0002-0003: awards paid through the ledger become funds
payments, on a database holding the old shape."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from funds.models import Fund as CurrentFund
from scholarships.models import ScholarshipRound as CurrentRound
from tests.factories import pay

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("funds", "0003_seed_fund_models"), ("scholarships", "0001_rounds_and_awards")]
DAY = datetime.date(2017, 3, 15)


def migrate(targets=None):
    """Migrate the test database to `targets` (the latest migrations when None); return the
    models as they stand there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def old_apps(cast, tree, fund_model):
    apps = migrate(BEFORE)
    yield apps
    migrate()


def test_awards_paid_through_the_ledger_become_payments_and_the_balance_holds(old_apps, cast, tree, fund_model):
    Fund = old_apps.get_model("funds", "Fund")
    Donation = old_apps.get_model("funds", "Donation")
    LedgerEntry = old_apps.get_model("funds", "LedgerEntry")
    ScholarshipRound = old_apps.get_model("scholarships", "ScholarshipRound")
    Award = old_apps.get_model("scholarships", "Award")
    clerk_id = cast.commune_clerk.pk

    fund = Fund.objects.create(branch_id=tree.phuc_xa.pk, name="Quỹ Phúc Xá", fund_model_id=fund_model.pk, balance=0)
    donation = Donation.objects.create(
        fund=fund,
        donor_name="Nguyễn Văn Ấn",
        donor_kind="individual",
        amount=1_000_000,
        received_on=DAY,
        receipt_year=2017,
        receipt_number=1,
    )
    LedgerEntry.objects.create(fund=fund, amount=1_000_000, kind="donation", occurred_on=DAY, donation=donation)
    scholarship_round = ScholarshipRound.objects.create(
        name="Học bổng", school_year="2016-2017", branch_id=tree.phuc_xa.pk, fund=fund, awarded_on=DAY
    )

    def award(name, amount):
        paid = Award.objects.create(
            round=scholarship_round,
            recipient_kind="pupil",
            recipient_name=name,
            category="hardship",
            amount=amount,
            paid_on=DAY,
            created_by_id=clerk_id,
        )
        row = LedgerEntry.objects.create(
            fund=fund,
            amount=-amount,
            kind="award_payment",
            occurred_on=DAY,
            award=paid,
            memo=name,
            created_by_id=clerk_id,
        )
        return paid, row

    kept, _kept_row = award("Lê Thị Bích", 300_000)
    voided, voided_row = award("Trần Văn Cường", 200_000)
    LedgerEntry.objects.create(
        fund=fund,
        amount=200_000,
        kind="reversal",
        occurred_on=DAY,
        award=voided,
        reverses=voided_row,
        memo="Trao nhầm người",
        created_by_id=clerk_id,
    )
    Award.objects.filter(pk=voided.pk).update(
        voided_at=datetime.datetime(2017, 3, 20, tzinfo=datetime.UTC), void_reason="Trao nhầm người"
    )
    Fund.objects.filter(pk=fund.pk).update(balance=700_000)

    apps = migrate()
    Payment = apps.get_model("funds", "Payment")
    LedgerEntry = apps.get_model("funds", "LedgerEntry")
    Award = apps.get_model("scholarships", "Award")
    Fund = apps.get_model("funds", "Fund")

    payment = Payment.objects.get(pk=kept.pk)
    assert (payment.fund_id, payment.amount, payment.paid_on, payment.description) == (
        fund.pk,
        300_000,
        DAY,
        "Lê Thị Bích",
    )
    assert payment.created_by_id == clerk_id and payment.voided_at is None and payment.void_reason == ""
    returned = Payment.objects.get(pk=voided.pk)
    assert returned.voided_at is not None and returned.void_reason == "Trao nhầm người"
    assert Award.objects.get(pk=kept.pk).payment_id == kept.pk
    assert Award.objects.get(pk=voided.pk).payment_id == voided.pk
    assert sorted(LedgerEntry.objects.filter(payment_id=kept.pk).values_list("kind", "amount")) == [
        ("payment", -300_000)
    ]
    assert sorted(LedgerEntry.objects.filter(payment_id=voided.pk).values_list("kind", "amount")) == [
        ("payment", -200_000),
        ("reversal", 200_000),
    ]
    assert not LedgerEntry.objects.filter(kind="award_payment").exists()
    assert Fund.objects.get(pk=fund.pk).balance == 700_000
    assert LedgerEntry.objects.filter(fund_id=fund.pk).aggregate(total=Sum("amount"))["total"] == 700_000

    # Back again: the rows name their awards as before.
    old = migrate(BEFORE)
    OldLedgerEntry = old.get_model("funds", "LedgerEntry")
    assert sorted(OldLedgerEntry.objects.exclude(award=None).values_list("award_id", "kind", "amount")) == sorted(
        [(kept.pk, "award_payment", -300_000), (voided.pk, "award_payment", -200_000), (voided.pk, "reversal", 200_000)]
    )

    # And forward: a payment recorded afterwards takes a fresh id (the id sequence moved past
    # the ids the migration gave).
    migrate()
    current_round = CurrentRound.objects.get(pk=scholarship_round.pk)
    assert current_round.fund == CurrentFund.objects.get(pk=fund.pk)
    new_award = pay(cast.commune_clerk, current_round, 100_000)
    assert new_award.payment_id > voided.pk
    assert CurrentFund.objects.get(pk=fund.pk).balance == 600_000
