"""Writes to funds. Every movement of money is one ledger row written here, in the same
transaction as the record it describes, with the fund row locked (SELECT … FOR UPDATE), so
concurrent payments and receipts for one fund queue up instead of racing.

Locks are always taken fund by fund in ascending id order, so two transfers between the
same funds in opposite directions cannot deadlock.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_write_in
from associations.audit import audit_record, diff, snapshot
from associations.models import AuditAction, AuditEntry, Branch
from funds.models import (
    Donation,
    DonationMethod,
    Fund,
    LedgerEntry,
    LedgerKind,
    ReceiptCounter,
    Transfer,
)
from khuyenhoc.money import format_money
from khuyenhoc.signals import money_changed
from khuyenhoc.text import clean_text

DONATION_AUDIT_FIELDS = [
    "fund",
    "donor_name",
    "donor_kind",
    "member",
    "organization",
    "amount",
    "received_on",
    "method",
    "in_kind_description",
    "receipt_year",
    "receipt_number",
    "note",
]
VOID_AUDIT_FIELDS = ["voided_at", "voided_by", "void_reason"]


def _check_not_future(day: datetime.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})


def _check_open(fund: Fund, day: datetime.date, field: str) -> None:
    if not fund.is_open_on(day):
        if fund.closed_on and day > fund.closed_on:
            message = _("The fund %(fund)s was closed on %(day)s.") % {
                "fund": fund,
                "day": fund.closed_on.strftime("%d/%m/%Y"),
            }
        else:
            message = _("The fund %(fund)s was opened only on %(day)s.") % {
                "fund": fund,
                "day": fund.opened_on.strftime("%d/%m/%Y"),
            }
        raise ValidationError({field: message})


def _check_reason(reason: str) -> str:
    reason = clean_text(reason)
    if not reason:
        raise ValidationError({"reason": _("Give the reason for voiding.")})
    return reason


def _lock_funds(*fund_ids: int) -> dict[int, Fund]:
    """Lock the fund rows in ascending id order and return them fresh from the database."""
    locked = {}
    for fund_id in sorted(set(fund_ids)):
        locked[fund_id] = Fund.objects.select_for_update().select_related("branch").get(pk=fund_id)
    return locked


def _post(
    *, fund: Fund, amount: int, kind: str, occurred_on: datetime.date, actor, memo: str = "", **source
) -> LedgerEntry:
    """Write one ledger row and move the cached balance with it. `fund` must be locked."""
    if fund.balance + amount < 0:
        raise ValidationError(
            _("The fund's balance (%(balance)s) is less than this payment (%(amount)s).")
            % {"balance": format_money(fund.balance), "amount": format_money(-amount)},
            code="insufficient_balance",
        )
    entry = LedgerEntry.objects.create(
        fund=fund,
        amount=amount,
        kind=kind,
        occurred_on=occurred_on,
        memo=memo[:500],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **source,
    )
    Fund.objects.filter(pk=fund.pk).update(balance=F("balance") + amount)
    fund.balance += amount
    return entry


def _announce(fund: Fund, sender) -> None:
    money_changed.send(sender=sender, branch_id=fund.branch_id)


# --- Funds ----------------------------------------------------------------------------------


FUND_EDITABLE = {"name", "fund_model", "legal_form", "opened_on", "closed_on"}


@transaction.atomic
def fund_create(*, actor, branch: Branch, data: dict) -> Fund:
    require_write_in(actor, branch)
    unknown = set(data) - FUND_EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    fund = Fund(branch=branch, **data)
    fund.full_clean()
    fund.save()
    audit_record(actor=actor, obj=fund, action=AuditAction.CREATE, branch=branch, changes=snapshot(fund))
    _announce(fund, Fund)
    return fund


@transaction.atomic
def fund_update(*, actor, fund: Fund, data: dict) -> Fund:
    """Change a fund's description. Its balance is never edited: only the ledger moves it."""
    unknown = set(data) - FUND_EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    fund = _lock_funds(fund.pk)[fund.pk]
    require_write_in(actor, fund.branch)
    before = snapshot(fund)
    for field, value in data.items():
        setattr(fund, field, value)
    fund.full_clean()
    fund.save(update_fields=sorted(data))
    changes = diff(before, snapshot(fund))
    if changes:
        audit_record(actor=actor, obj=fund, action=AuditAction.UPDATE, branch=fund.branch, changes=changes)
        _announce(fund, Fund)
    return fund


# --- Money in -------------------------------------------------------------------------------


@transaction.atomic
def donation_record(
    *,
    actor,
    fund: Fund,
    donor_name: str,
    donor_kind: str,
    amount: int,
    received_on: datetime.date,
    method: str = DonationMethod.CASH,
    in_kind_description: str = "",
    member=None,
    organization=None,
    note: str = "",
) -> Donation:
    """Record a donation, issue its receipt number and credit the fund, all or nothing.

    Receipt numbers run 1, 2, 3 … per fund and calendar year. The counter row is read and
    moved while the fund row is locked, so two clerks saving at the same moment get
    consecutive numbers; a failed save rolls the counter back with it, leaving no gap.
    """
    require_write_in(actor, fund.branch)
    for linked in (member, organization):
        if linked is not None:
            require_write_in(actor, linked.branch)
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})
    _check_not_future(received_on, "received_on")
    fund = _lock_funds(fund.pk)[fund.pk]
    _check_open(fund, received_on, "received_on")

    counter, _created = ReceiptCounter.objects.select_for_update().get_or_create(fund=fund, year=received_on.year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])

    donation = Donation(
        fund=fund,
        donor_name=clean_text(donor_name),
        donor_kind=donor_kind,
        amount=amount,
        received_on=received_on,
        method=method,
        in_kind_description=clean_text(in_kind_description) if method == DonationMethod.IN_KIND else "",
        member=member,
        organization=organization,
        note=clean_text(note),
        receipt_year=received_on.year,
        receipt_number=counter.last_number,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if method == DonationMethod.IN_KIND and not donation.in_kind_description:
        raise ValidationError({"in_kind_description": _("Describe the goods given in kind.")})
    donation.full_clean(exclude=["created_by"])
    donation.save()
    _post(
        fund=fund,
        amount=amount,
        kind=LedgerKind.DONATION,
        occurred_on=received_on,
        actor=actor,
        donation=donation,
        memo=donation.donor_name,
    )
    audit_record(
        actor=actor,
        obj=donation,
        action=AuditAction.CREATE,
        branch=fund.branch,
        changes=snapshot(donation, DONATION_AUDIT_FIELDS),
    )
    _announce(fund, Donation)
    return donation


# --- Money out (used by scholarships) -------------------------------------------------------


@transaction.atomic
def fund_debit(*, actor, fund: Fund, amount: int, occurred_on: datetime.date, award, memo: str = "") -> LedgerEntry:
    """Pay an award out of a fund. Refused, with nothing written, when the balance is short."""
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})
    fund = _lock_funds(fund.pk)[fund.pk]
    require_write_in(actor, fund.branch)
    _check_open(fund, occurred_on, "paid_on")
    entry = _post(
        fund=fund,
        amount=-amount,
        kind=LedgerKind.AWARD_PAYMENT,
        occurred_on=occurred_on,
        actor=actor,
        award=award,
        memo=memo,
    )
    _announce(fund, type(award))
    return entry


@transaction.atomic
def ledger_reverse(*, actor, reason: str, donation=None, award=None, transfer=None) -> list[LedgerEntry]:
    """Reverse every ledger row of one record (a donation, an award or a transfer).

    Each reversal names the row it reverses; both stay in the history. A reversal that
    would take a fund below zero (money already spent) is refused like any payment.
    """
    source = {"donation": donation, "award": award, "transfer": transfer}
    source = {key: value for key, value in source.items() if value is not None}
    if len(source) != 1:
        raise ValueError("reverse exactly one record")
    entries = list(
        LedgerEntry.objects.filter(**source)
        .exclude(kind=LedgerKind.REVERSAL)
        .filter(reversed_by__isnull=True)
        .order_by("fund_id", "id")
    )
    funds = _lock_funds(*[entry.fund_id for entry in entries])
    for entry in entries:
        require_write_in(actor, funds[entry.fund_id].branch)
    today = timezone.localdate()
    # Money coming back into a fund first, so a transfer's reversal never trips on its order.
    reversals = []
    for entry in sorted(entries, key=lambda e: e.amount):
        reversals.append(
            _post(
                fund=funds[entry.fund_id],
                amount=-entry.amount,
                kind=LedgerKind.REVERSAL,
                occurred_on=today,
                actor=actor,
                reverses=entry,
                memo=reason,
                **source,
            )
        )
    for fund in funds.values():
        _announce(fund, type(next(iter(source.values()))))
    return reversals


def _mark_void(record, *, actor, reason: str) -> None:
    record.voided_at = timezone.now()
    record.voided_by = actor if getattr(actor, "is_authenticated", False) else None
    record.void_reason = reason
    record.save(update_fields=VOID_AUDIT_FIELDS)


@transaction.atomic
def donation_void(*, actor, donation: Donation, reason: str) -> Donation:
    """Void a donation: it keeps its receipt number (numbers are never reused) and its ledger
    row is reversed. Refused when the fund no longer holds the money."""
    reason = _check_reason(reason)
    donation = Donation.objects.select_for_update().select_related("fund__branch").get(pk=donation.pk)
    require_write_in(actor, donation.fund.branch)
    if donation.is_voided:
        raise ValidationError(_("This record was already voided."))
    try:
        ledger_reverse(actor=actor, reason=reason, donation=donation)
    except ValidationError as error:
        raise ValidationError(
            _("This donation cannot be voided: %(error)s") % {"error": " ".join(error.messages)}
        ) from error
    _mark_void(donation, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        obj=donation,
        action=AuditAction.VOID,
        branch=donation.fund.branch,
        changes={str(Donation._meta.get_field("void_reason").verbose_name): reason},
    )
    return donation


# --- Transfers between funds ----------------------------------------------------------------


@transaction.atomic
def transfer_record(
    *, actor, from_fund: Fund, to_fund: Fund, amount: int, transferred_on: datetime.date, note: str = ""
) -> Transfer:
    if from_fund.pk == to_fund.pk:
        raise ValidationError({"to_fund": _("Choose two different funds.")})
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})
    _check_not_future(transferred_on, "transferred_on")
    funds = _lock_funds(from_fund.pk, to_fund.pk)
    from_fund, to_fund = funds[from_fund.pk], funds[to_fund.pk]
    require_write_in(actor, from_fund.branch)
    require_write_in(actor, to_fund.branch)
    _check_open(from_fund, transferred_on, "from_fund")
    _check_open(to_fund, transferred_on, "to_fund")
    transfer = Transfer(
        from_fund=from_fund,
        to_fund=to_fund,
        amount=amount,
        transferred_on=transferred_on,
        note=clean_text(note),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    transfer.full_clean(exclude=["created_by"])
    transfer.save()
    _post(
        fund=from_fund,
        amount=-amount,
        kind=LedgerKind.TRANSFER_OUT,
        occurred_on=transferred_on,
        actor=actor,
        transfer=transfer,
        memo=str(to_fund),
    )
    _post(
        fund=to_fund,
        amount=amount,
        kind=LedgerKind.TRANSFER_IN,
        occurred_on=transferred_on,
        actor=actor,
        transfer=transfer,
        memo=str(from_fund),
    )
    audit_record(
        actor=actor,
        obj=transfer,
        action=AuditAction.CREATE,
        branch=from_fund.branch,
        changes=snapshot(transfer, ["from_fund", "to_fund", "amount", "transferred_on", "note"]),
    )
    _announce(from_fund, Transfer)
    _announce(to_fund, Transfer)
    return transfer


@transaction.atomic
def transfer_void(*, actor, transfer: Transfer, reason: str) -> Transfer:
    reason = _check_reason(reason)
    transfer = Transfer.objects.select_for_update().select_related("from_fund__branch").get(pk=transfer.pk)
    if transfer.is_voided:
        raise ValidationError(_("This record was already voided."))
    try:
        ledger_reverse(actor=actor, reason=reason, transfer=transfer)
    except ValidationError as error:
        raise ValidationError(
            _("This transfer cannot be voided: %(error)s") % {"error": " ".join(error.messages)}
        ) from error
    _mark_void(transfer, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        obj=transfer,
        action=AuditAction.VOID,
        branch=transfer.from_fund.branch,
        changes={str(Transfer._meta.get_field("void_reason").verbose_name): reason},
    )
    return transfer


# --- Batches (Excel imports) ----------------------------------------------------------------
# The same rules as donation_record / fund_debit, set-based: each fund row is locked once (in
# ascending id order), receipt counters are moved once per fund and year, and the records,
# ledger rows and audit entries are written with bulk_create. A query count that does not
# grow with the rows of a batch.


def _lock_fund_rows(fund_ids) -> dict[int, Fund]:
    """Lock the fund rows in ascending id order, in one query, and return them fresh."""
    funds = Fund.objects.select_for_update(of=("self",)).select_related("branch").filter(pk__in=set(fund_ids))
    return {fund.pk: fund for fund in funds.order_by("pk")}


def _post_many(funds: dict[int, Fund], entries: list[LedgerEntry]) -> None:
    """Write ledger rows and move each locked fund's cached balance by their sum, or refuse."""
    totals: dict[int, int] = {}
    for entry in entries:
        totals[entry.fund_id] = totals.get(entry.fund_id, 0) + entry.amount
    for fund_id, total in totals.items():
        fund = funds[fund_id]
        if fund.balance + total < 0:
            raise ValidationError(
                _("The fund %(fund)s holds %(balance)s: these payments (%(amount)s) would take it below zero.")
                % {"fund": fund, "balance": format_money(fund.balance), "amount": format_money(-total)},
                code="insufficient_balance",
            )
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)
    changed = []
    for fund_id, total in totals.items():
        funds[fund_id].balance += total
        changed.append(funds[fund_id])
    Fund.objects.bulk_update(changed, ["balance"], batch_size=500)


def _announce_many(funds, sender) -> None:
    for branch_id in sorted({fund.branch_id for fund in funds}):
        money_changed.send(sender=sender, branch_id=branch_id)


@transaction.atomic
def donations_record_many(*, actor, donations: list[Donation]) -> list[Donation]:
    """Record many new donations (unsaved, fund_id set, no receipt number) at once.

    Each gets the next receipt number of its fund and year, in the order given, with the
    receipt counters locked like donation_record's; one ledger row each; each fund's balance
    moves once. All or nothing.
    """
    if not donations:
        return []
    today = timezone.localdate()
    for donation in donations:
        if not isinstance(donation.amount, int) or donation.amount <= 0:
            raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})
        if donation.received_on > today:
            raise ValidationError({"received_on": _("The date cannot be in the future.")})
        if donation.pk is not None or donation.receipt_number:
            raise ValueError("donations_record_many records new donations only")
    funds = _lock_fund_rows(donation.fund_id for donation in donations)
    for fund in funds.values():
        require_write_in(actor, fund.branch)
    pairs = {(donation.fund_id, donation.received_on.year) for donation in donations}
    ReceiptCounter.objects.bulk_create(
        [ReceiptCounter(fund_id=fund_id, year=year) for fund_id, year in sorted(pairs)], ignore_conflicts=True
    )
    counters = {
        (counter.fund_id, counter.year): counter
        for counter in ReceiptCounter.objects.select_for_update()
        .filter(fund_id__in={fund_id for fund_id, _year in pairs}, year__in={year for _fund, year in pairs})
        .order_by("fund_id", "year")
        if (counter.fund_id, counter.year) in pairs
    }
    recorder = actor if getattr(actor, "is_authenticated", False) else None
    for donation in donations:
        fund = funds[donation.fund_id]
        _check_open(fund, donation.received_on, "received_on")
        counter = counters[(fund.pk, donation.received_on.year)]
        counter.last_number += 1
        donation.fund = fund
        donation.donor_name = clean_text(donation.donor_name)
        donation.note = clean_text(donation.note)
        donation.in_kind_description = (
            clean_text(donation.in_kind_description) if donation.method == DonationMethod.IN_KIND else ""
        )
        if donation.method == DonationMethod.IN_KIND and not donation.in_kind_description:
            raise ValidationError({"in_kind_description": _("Describe the goods given in kind.")})
        donation.receipt_year = donation.received_on.year
        donation.receipt_number = counter.last_number
        donation.created_by = recorder
        # Field rules without the per-row queries of full_clean (foreign keys were resolved
        # by the caller; the receipt numbers are unique by construction and by constraint).
        donation.clean_fields(exclude=["fund", "member", "organization", "created_by", "voided_by"])
    ReceiptCounter.objects.bulk_update(list(counters.values()), ["last_number"], batch_size=500)
    Donation.objects.bulk_create(donations, batch_size=1000)
    _post_many(
        funds,
        [
            LedgerEntry(
                fund=donation.fund,
                amount=donation.amount,
                kind=LedgerKind.DONATION,
                occurred_on=donation.received_on,
                memo=donation.donor_name[:500],
                created_by=recorder,
                donation=donation,
            )
            for donation in donations
        ],
    )
    content_type = ContentType.objects.get_for_model(Donation)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=recorder,
                branch=donation.fund.branch,
                content_type=content_type,
                object_id=str(donation.pk),
                object_repr=str(donation)[:255],
                action=AuditAction.CREATE,
                changes=snapshot(donation, DONATION_AUDIT_FIELDS),
            )
            for donation in donations
        ],
        batch_size=1000,
    )
    _announce_many(funds.values(), Donation)
    return donations


@dataclass(frozen=True)
class Debit:
    """One payment out of a fund, for fund_debit_many."""

    fund_id: int
    amount: int
    occurred_on: datetime.date
    award: Any
    memo: str = ""


@transaction.atomic
def fund_debit_many(*, actor, debits: list[Debit]) -> list[LedgerEntry]:
    """Pay many awards (already saved) at once: each fund locked once, one ledger row per
    award. Refused whole, with nothing written, when any fund's balance would go below zero."""
    if not debits:
        return []
    for debit in debits:
        if not isinstance(debit.amount, int) or debit.amount <= 0:
            raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})
    funds = _lock_fund_rows(debit.fund_id for debit in debits)
    for fund in funds.values():
        require_write_in(actor, fund.branch)
    for debit in debits:
        _check_open(funds[debit.fund_id], debit.occurred_on, "paid_on")
    recorder = actor if getattr(actor, "is_authenticated", False) else None
    entries = [
        LedgerEntry(
            fund=funds[debit.fund_id],
            amount=-debit.amount,
            kind=LedgerKind.AWARD_PAYMENT,
            occurred_on=debit.occurred_on,
            memo=debit.memo[:500],
            created_by=recorder,
            award=debit.award,
        )
        for debit in debits
    ]
    _post_many(funds, entries)
    _announce_many(funds.values(), type(debits[0].award))
    return entries
