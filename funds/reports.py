"""Read-side of funds: money raised and balances for a branch's subtree, set-based.

Roll-ups by child branch take one query: each row is tagged with the first
(depth + 1) steps of its branch's materialised path — the child of the chosen branch it
lies under — and grouped by that prefix. Rows of the chosen branch itself have a shorter
path and group under the branch's own path ("own funds").
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Max, QuerySet, Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils.translation import gettext

from associations.models import Branch
from funds.models import Donation, Fund
from funds.periods import Period


@dataclass
class Row:
    """One line of a report: a label, its figures and the list filters behind them."""

    label: str
    figures: dict
    filters: dict = field(default_factory=dict)


def child_prefix(branch: Branch, path_lookup: str) -> Substr:
    return Substr(path_lookup, 1, (branch.depth + 1) * Branch.steplen)


def group_by_child_branch(queryset: QuerySet, *, branch: Branch, path_lookup: str, **aggregates) -> list[Row]:
    """Aggregate `queryset` per child of `branch` (plus the branch's own rows): two queries,
    whatever the number of branches."""
    grouped = list(
        queryset.annotate(prefix=child_prefix(branch, path_lookup))
        .values("prefix")
        .annotate(**aggregates)
        .order_by("prefix")
    )
    prefixes = [row["prefix"] for row in grouped]
    branches = {node.path: node for node in Branch.objects.filter(path__in=prefixes)} if prefixes else {}
    rows = []
    for row in grouped:
        prefix = row.pop("prefix")
        node = branches.get(prefix)
        if node is None:
            continue
        own = node.pk == branch.pk
        label = str(node) if not own else gettext("%(branch)s (own records)") % {"branch": node}
        rows.append(Row(label=label, figures=row, filters={"branch": node.pk, **({"own": "1"} if own else {})}))
    return rows


def donations_in(branch: Branch, period: Period) -> QuerySet:
    return (
        Donation.objects.valid().in_subtree(branch).filter(received_on__gte=period.start, received_on__lte=period.end)
    )


def latest_donation_day(branch: Branch) -> datetime.date | None:
    """The day of the latest valid donation in the subtree (a report's first look opens on its year)."""
    return Donation.objects.valid().in_subtree(branch).aggregate(day=Max("received_on"))["day"]


RAISED = {"amount": Sum("amount"), "donations": Count("id")}


def raised_total(branch: Branch, period: Period) -> dict:
    totals = donations_in(branch, period).aggregate(**RAISED)
    return {"amount": totals["amount"] or 0, "donations": totals["donations"]}


def raised_by_fund_model(branch: Branch, period: Period) -> list[Row]:
    grouped = (
        donations_in(branch, period)
        .values("fund__fund_model_id", "fund__fund_model__name", "fund__fund_model__ordering")
        .annotate(**RAISED)
        .order_by("fund__fund_model__ordering", "fund__fund_model__name")
    )
    return [
        Row(
            label=row["fund__fund_model__name"],
            figures={"amount": row["amount"], "donations": row["donations"]},
            filters={"fund_model": row["fund__fund_model_id"]},
        )
        for row in grouped
    ]


def raised_by_branch(branch: Branch, period: Period) -> list[Row]:
    return group_by_child_branch(
        donations_in(branch, period), branch=branch, path_lookup="fund__branch__path", **RAISED
    )


def raised_by_month(branch: Branch, period: Period) -> list[Row]:
    grouped = (
        donations_in(branch, period)
        .annotate(month=TruncMonth("received_on"))
        .values("month")
        .annotate(**RAISED)
        .order_by("month")
    )
    rows = []
    for row in grouped:
        month = row["month"]
        if hasattr(month, "date"):
            month = month.date()
        last = datetime.date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
        start, end = max(month, period.start), min(last, period.end)
        rows.append(
            Row(
                label=f"{month:%m/%Y}",
                figures={"amount": row["amount"], "donations": row["donations"]},
                filters={"start": start.isoformat(), "end": end.isoformat()},
            )
        )
    return rows


BALANCE = {"balance": Sum("balance"), "funds": Count("id")}


def balances_total(branch: Branch) -> dict:
    totals = Fund.objects.in_subtree(branch).aggregate(**BALANCE)
    return {"balance": totals["balance"] or 0, "funds": totals["funds"]}


def balances_by_branch(branch: Branch) -> list[Row]:
    return group_by_child_branch(Fund.objects.in_subtree(branch), branch=branch, path_lookup="branch__path", **BALANCE)


def balances_by_fund_model(branch: Branch) -> list[Row]:
    grouped = (
        Fund.objects.in_subtree(branch)
        .values("fund_model_id", "fund_model__name", "fund_model__ordering")
        .annotate(**BALANCE)
        .order_by("fund_model__ordering", "fund_model__name")
    )
    return [
        Row(
            label=row["fund_model__name"],
            figures={"balance": row["balance"], "funds": row["funds"]},
            filters={"fund_model": row["fund_model_id"]},
        )
        for row in grouped
    ]
