"""The ledger's rules, shared by every money write: checks, fund locks, posting, reversal and
the one way a money record is voided.

Every movement of money is one ledger row written in the same transaction as the record it
describes, with the fund row locked (SELECT … FOR UPDATE), so concurrent payments and
receipts for one fund queue up instead of racing. Locks are taken in one query in ascending
fund id order, so two writes touching the same funds in opposite orders cannot deadlock.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_write_in, require_write_in_many
from associations.audit import audit_record, audit_record_many, snapshotter
from associations.models import AuditAction, Branch
from funds.models import Donation, Fund, LedgerEntry, LedgerKind, Payment, Transfer, Voidable
from khuyenhoc.bulk import bulk_insert
from khuyenhoc.money import format_money
from khuyenhoc.signals import money_changed
from khuyenhoc.text import clean_text

VOID_FIELDS = ["voided_at", "voided_by", "void_reason"]
# Which ledger column names each kind of money record.
SOURCE_FIELD: dict[type[models.Model], str] = {Donation: "donation", Transfer: "transfer", Payment: "payment"}


def recorder(actor):
    """The user a row is recorded against (None for system writes)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def check_amount(amount) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})


def check_not_future(day: datetime.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})


def check_open(fund: Fund, day: datetime.date, field: str) -> None:
    if fund.is_open_on(day):
        return
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


def check_reason(reason: str) -> str:
    reason = clean_text(reason)
    if not reason:
        raise ValidationError({"reason": _("Give the reason for voiding.")})
    return reason


def lock_funds(fund_ids: Iterable[int]) -> dict[int, Fund]:
    """Lock the fund rows in ascending id order, in one query, and return them fresh."""
    funds = Fund.objects.select_for_update(of=("self",)).select_related("branch").filter(pk__in=set(fund_ids))
    return {fund.pk: fund for fund in funds.order_by("pk")}


UPDATE_ROWS = 1_000  # rows per UPDATE … FROM (VALUES …) statement


def column_update(objects: Sequence[models.Model], field: str) -> None:
    """Write `field` of each of `objects` (saved rows, already locked by the caller) in one
    UPDATE … FROM (VALUES (pk, value), …) per thousand rows on PostgreSQL, a set-based
    statement whose cost barely grows with the rows (Django's `bulk_update` builds a CASE
    WHEN per row, in Python and in the plan); `bulk_update` elsewhere (SQLite, embedded)."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, [field], batch_size=500)
        return
    meta = model._meta
    column = meta.get_field(field)
    table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    row = f"(%s::{meta.pk.db_type(connection)}, %s::{column.db_type(connection)})"
    with connection.cursor() as cursor:
        for start in range(0, len(objects), UPDATE_ROWS):
            chunk = objects[start : start + UPDATE_ROWS]
            params = [value for obj in chunk for value in (obj.pk, getattr(obj, column.attname))]
            cursor.execute(
                f"UPDATE {table} AS t SET {connection.ops.quote_name(column.column)} = v.value "  # noqa: S608 — names from the model
                f"FROM (VALUES {', '.join([row] * len(chunk))}) AS v(pk, value) WHERE t.{pk} = v.pk",
                params,
            )


def post_entries(funds: dict[int, Fund], entries: Sequence[LedgerEntry]) -> None:
    """Write ledger rows and move each locked fund's cached balance by their sum, or refuse
    (nothing written) when a fund would go below zero."""
    totals: dict[int, int] = {}
    counts: dict[int, int] = {}
    for entry in entries:
        totals[entry.fund_id] = totals.get(entry.fund_id, 0) + entry.amount
        counts[entry.fund_id] = counts.get(entry.fund_id, 0) + 1
    for fund_id, total in totals.items():
        fund = funds[fund_id]
        if fund.balance + total >= 0:
            continue
        if counts[fund_id] == 1:
            message = _("The fund's balance (%(balance)s) is less than this payment (%(amount)s).") % {
                "balance": format_money(fund.balance),
                "amount": format_money(-total),
            }
        else:
            message = _(
                "The fund %(fund)s holds %(balance)s: these payments (%(amount)s) would take it below zero."
            ) % {"fund": fund, "balance": format_money(fund.balance), "amount": format_money(-total)}
        raise ValidationError(message, code="insufficient_balance")
    bulk_insert(LedgerEntry, entries)  # COPY on PostgreSQL
    changed = []
    for fund_id, total in totals.items():
        funds[fund_id].balance += total
        changed.append(funds[fund_id])
    column_update(changed, "balance")


def announce(branch_ids: Iterable[int], sender, *, from_day: datetime.date | None = None) -> None:
    """`from_day`: the earliest day whose figures the records can move (their day of receipt
    or payment); None: any day."""
    for branch_id in sorted(set(branch_ids)):
        money_changed.send(sender=sender, branch_id=branch_id, from_day=from_day)


def audit_created(*, actor, records: Sequence[models.Model], branch_ids: Sequence[int], fields: list[str]) -> None:
    """One CREATE audit entry per new record, written in one query (its rows built
    positionally: an import writes 100 000)."""
    if not records:
        return
    if len(branch_ids) != len(records):
        raise ValueError("audit_created needs one branch per record")
    audit_record_many(
        actor=actor,
        records=records,
        action=AuditAction.CREATE,
        changes_of=snapshotter(type(records[0]), fields),
        branch_ids=branch_ids,
    )


def _reverse(*, actor, reason: str, money: Voidable) -> set[int]:
    """Reverse every ledger row of one money record; return the branch ids of the funds moved.

    Each reversal names the row it reverses; both stay in the history. A reversal that
    would take a fund below zero (money already spent) is refused like any payment.
    """
    if type(money) not in SOURCE_FIELD:
        return set()  # a record that never moved money (an award recorded without a payment)
    source = {SOURCE_FIELD[type(money)]: money}
    entries = list(
        LedgerEntry.objects.filter(**source)
        .exclude(kind=LedgerKind.REVERSAL)
        .filter(reversed_by__isnull=True)
        .order_by("fund_id", "id")
    )
    funds = lock_funds(entry.fund_id for entry in entries)
    require_write_in_many(actor, [fund.branch for fund in funds.values()])
    today = timezone.localdate()
    # Money coming back into a fund first, so a transfer's reversal never trips on its order.
    for entry in sorted(entries, key=lambda e: e.amount):
        post_entries(
            funds,
            [
                LedgerEntry(
                    fund=funds[entry.fund_id],
                    amount=-entry.amount,
                    kind=LedgerKind.REVERSAL,
                    occurred_on=today,
                    memo=reason[:500],
                    created_by=recorder(actor),
                    reverses=entry,
                    **source,
                )
            ],
        )
    return {fund.branch_id for fund in funds.values()}


@transaction.atomic
def record_void(
    *, actor, record: Voidable, reason: str, branch: Branch, refusal: str, paid_by: Payment | None = None
) -> Voidable:
    """Void a money record with a reason and reverse its ledger rows; the record and both
    rows stay. Donations and transfers carry their own ledger rows; a record paid through a
    funds `Payment` (an award) names it as `paid_by`, and the payment is voided with it.

    `branch` is the record's branch: the actor must be allowed to write there, and the
    audit entry (one, for the record: the payment is part of the same action) and the
    change signal go to it. `refusal` wraps the reason a reversal is
    refused ("This donation cannot be voided: %(error)s").
    """
    reason = check_reason(reason)
    record = type(record).objects.select_for_update(of=("self",)).get(pk=record.pk)
    require_write_in(actor, branch)
    if record.is_voided:
        raise ValidationError(_("This record was already voided."))
    if paid_by is not None:
        paid_by = Payment.objects.select_for_update(of=("self",)).get(pk=paid_by.pk)
        if paid_by.is_voided:
            raise ValidationError(_("This record was already voided."))
    try:
        branch_ids = _reverse(actor=actor, reason=reason, money=paid_by or record)
    except ValidationError as error:
        raise ValidationError(refusal % {"error": " ".join(error.messages)}) from error
    now = timezone.now()
    for item in (record, paid_by) if paid_by is not None else (record,):
        item.voided_at = now
        item.voided_by = recorder(actor)
        item.void_reason = reason
        item.save(update_fields=VOID_FIELDS)
    audit_record(
        actor=actor,
        obj=record,
        action=AuditAction.VOID,
        branch=branch,
        changes={str(type(record)._meta.get_field("void_reason").verbose_name): reason},
    )
    announce({*branch_ids, branch.pk}, type(record))
    return record
