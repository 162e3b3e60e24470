"""Transfers between two funds: one row out of the giving fund, one into the receiving fund."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from associations.access import require_write_in
from associations.audit import audit_record, snapshot
from associations.models import AuditAction
from funds.models import Fund, LedgerEntry, LedgerKind, Transfer
from funds.services.ledger import (
    announce,
    check_amount,
    check_not_future,
    check_open,
    lock_funds,
    post_entries,
    record_void,
    recorder,
)
from khuyenhoc.text import clean_text


@transaction.atomic
def transfer_record(
    *, actor, from_fund: Fund, to_fund: Fund, amount: int, transferred_on: datetime.date, note: str = ""
) -> Transfer:
    if from_fund.pk == to_fund.pk:
        raise ValidationError({"to_fund": _("Choose two different funds.")})
    check_amount(amount)
    check_not_future(transferred_on, "transferred_on")
    funds = lock_funds([from_fund.pk, to_fund.pk])
    from_fund, to_fund = funds[from_fund.pk], funds[to_fund.pk]
    require_write_in(actor, from_fund.branch)
    require_write_in(actor, to_fund.branch)
    check_open(from_fund, transferred_on, "from_fund")
    check_open(to_fund, transferred_on, "to_fund")
    transfer = Transfer(
        from_fund=from_fund,
        to_fund=to_fund,
        amount=amount,
        transferred_on=transferred_on,
        note=clean_text(note),
        created_by=recorder(actor),
    )
    transfer.full_clean(exclude=["created_by"])
    transfer.save()
    post_entries(
        funds,
        [
            # Out first: the giving fund's balance is checked before anything is written.
            LedgerEntry(
                fund=from_fund,
                amount=-amount,
                kind=LedgerKind.TRANSFER_OUT,
                occurred_on=transferred_on,
                memo=str(to_fund)[:500],
                created_by=recorder(actor),
                transfer=transfer,
            ),
            LedgerEntry(
                fund=to_fund,
                amount=amount,
                kind=LedgerKind.TRANSFER_IN,
                occurred_on=transferred_on,
                memo=str(from_fund)[:500],
                created_by=recorder(actor),
                transfer=transfer,
            ),
        ],
    )
    audit_record(
        actor=actor,
        obj=transfer,
        action=AuditAction.CREATE,
        branch=from_fund.branch,
        changes=snapshot(transfer, ["from_fund", "to_fund", "amount", "transferred_on", "note"]),
    )
    announce([from_fund.branch_id, to_fund.branch_id], Transfer)
    return transfer


@transaction.atomic
def transfer_void(*, actor, transfer: Transfer, reason: str) -> Transfer:
    """Void a transfer: both rows are reversed. Only the giving fund's branch may do it."""
    transfer = Transfer.objects.select_related("from_fund__branch").get(pk=transfer.pk)
    return record_void(
        actor=actor,
        record=transfer,
        reason=reason,
        branch=transfer.from_fund.branch,
        refusal=_("This transfer cannot be voided: %(error)s"),
    )
