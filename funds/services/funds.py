"""Creating and describing funds. A fund's balance is never edited here: only the ledger moves it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from associations.access import require_write_in
from associations.audit import audit_record, diff, snapshot
from associations.models import AuditAction, Branch
from funds.models import Fund, FundModel
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


FUND_MODEL_EDITABLE = ("name", "code", "active", "ordering")


@transaction.atomic
def fund_model_save(*, actor, fund_model: FundModel) -> FundModel:
    """Create or change an entry of the catalogue of fund models (administrators only: the
    catalogue is the same for every branch). Audited; a model is switched off, not deleted."""
    if not actor.is_superuser:
        raise PermissionDenied
    fund_model.full_clean()
    if fund_model.pk is None:
        fund_model.save()
        audit_record(actor=actor, obj=fund_model, action=AuditAction.CREATE, branch=None, changes=snapshot(fund_model))
        return fund_model
    before = snapshot(FundModel.objects.select_for_update().get(pk=fund_model.pk), FUND_MODEL_EDITABLE)
    fund_model.save()
    changes = diff(before, snapshot(fund_model, FUND_MODEL_EDITABLE))
    if changes:
        audit_record(actor=actor, obj=fund_model, action=AuditAction.UPDATE, branch=None, changes=changes)
    return fund_model
