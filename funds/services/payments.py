"""Money out: payments from a fund. The paying app keeps what a payment is for (an award)
and points at the `Payment`; funds records only the fund, the amount, the day and a
description, and voids it through `record_void(..., paid_by=payment)`."""

from __future__ import annotations

from django.db import transaction

from associations.access import require_write_in_many
from funds.models import LedgerEntry, LedgerKind, Payment
from funds.services.ledger import (
    announce,
    check_amount,
    check_not_future,
    check_open,
    lock_funds,
    post_entries,
    recorder,
)
from khuyenhoc.bulk import bulk_insert
from khuyenhoc.text import clean_text


@transaction.atomic
def payments_record(*, actor, payments: list[Payment]) -> list[Payment]:
    """Record new payments (unsaved, fund set) and debit their funds, all or nothing.

    Each fund row is locked once, one ledger row is written per payment and each fund's
    balance moves once; refused whole, with nothing written, when a fund would go below zero.
    A single payment is a batch of one.

    The caller audits the record the payment is for (an award names its amount, day and
    fund) in this same transaction: one action by a user, one audit entry.
    """
    if not payments:
        return []
    for payment in payments:
        if payment.pk is not None:
            raise ValueError("payments_record records new payments only")
    funds = lock_funds(payment.fund_id for payment in payments)
    require_write_in_many(actor, [fund.branch for fund in funds.values()])
    for payment in payments:
        check_amount(payment.amount)
        check_not_future(payment.paid_on, "paid_on")
        check_open(funds[payment.fund_id], payment.paid_on, "paid_on")
        payment.fund = funds[payment.fund_id]
        payment.description = clean_text(payment.description)
        payment.created_by = recorder(actor)
        payment.clean_fields(exclude=["fund", "created_by", "voided_by"])
    bulk_insert(Payment, payments)  # COPY on PostgreSQL
    post_entries(
        funds,
        [
            LedgerEntry(
                fund=payment.fund,
                amount=-payment.amount,
                kind=LedgerKind.PAYMENT,
                occurred_on=payment.paid_on,
                memo=payment.description[:500],
                created_by=recorder(actor),
                payment=payment,
            )
            for payment in payments
        ],
    )
    announce(
        (fund.branch_id for fund in funds.values()), Payment, from_day=min(payment.paid_on for payment in payments)
    )
    return payments
