"""Creating and describing funds. A fund's balance is never edited here: only the ledger moves it."""

from __future__ import annotations

from django.db import transaction

from associations.access import require_write_in
from associations.audit import audit_record, diff, snapshot
from associations.models import AuditAction, Branch
from funds.models import Fund
from funds.services.ledger import announce, lock_funds

FUND_EDITABLE = {"name", "fund_model", "legal_form", "opened_on", "closed_on"}


def _check_editable(data: dict) -> None:
    unknown = set(data) - FUND_EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")


@transaction.atomic
def fund_create(*, actor, branch: Branch, data: dict) -> Fund:
    require_write_in(actor, branch)
    _check_editable(data)
    fund = Fund(branch=branch, **data)
    fund.full_clean()
    fund.save()
    audit_record(actor=actor, obj=fund, action=AuditAction.CREATE, branch=branch, changes=snapshot(fund))
    announce([fund.branch_id], Fund)
    return fund


@transaction.atomic
def fund_update(*, actor, fund: Fund, data: dict) -> Fund:
    """Change a fund's description (name, model, legal form, dates)."""
    _check_editable(data)
    fund = lock_funds([fund.pk])[fund.pk]
    require_write_in(actor, fund.branch)
    before = snapshot(fund)
    for field, value in data.items():
        setattr(fund, field, value)
    fund.full_clean()
    fund.save(update_fields=sorted(data))
    changes = diff(before, snapshot(fund))
    if changes:
        audit_record(actor=actor, obj=fund, action=AuditAction.UPDATE, branch=fund.branch, changes=changes)
        announce([fund.branch_id], Fund)
    return fund
