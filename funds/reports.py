"""Read-side of funds: money raised and balances for a branch's subtree, set-based.

Roll-ups by child branch take one query: each row is tagged with the first
(depth + 1) steps of its branch's materialised path — the child of the chosen branch it
lies under — and grouped by that prefix. Rows of the chosen branch itself have a shorter
path and group under the branch's own path ("own funds").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils.translation import gettext

from associations.models import Branch
from funds.models import Donation, DonationMonthTotal, Fund
from funds.periods import Period
from funds.totals import DONATIONS, latest_month, month_end, whole_months


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
    return child_rows(branch, {row.pop("prefix"): row for row in grouped})


def child_rows(branch: Branch, figures_by_prefix: dict[str, dict], *, nodes: dict | None = None) -> list[Row]:
    """Report rows from figures keyed by the path of a child of `branch` (or the branch's own
    path for its own records), in path order: one query for the branches' names, unless
    `nodes` (path → branch) has them."""
    prefixes = sorted(figures_by_prefix)
    branches = nodes
    if branches is None:
        branches = {node.path: node for node in Branch.objects.filter(path__in=prefixes)} if prefixes else {}
    rows = []
    for prefix in prefixes:
        node = branches.get(prefix)
        if node is None:
            continue
        own = node.pk == branch.pk
        label = str(node) if not own else gettext("%(branch)s (own records)") % {"branch": node}
        rows.append(
            Row(
                label=label,
                figures=figures_by_prefix[prefix],
                filters={"branch": node.pk, **({"own": "1"} if own else {})},
            )
        )
    return rows


def donations_in(branch: Branch, period: Period) -> QuerySet:
    return (
        Donation.objects.valid().in_subtree(branch).filter(received_on__gte=period.start, received_on__lte=period.end)
    )


def latest_donation_day(branch: Branch) -> datetime.date | None:
    """The day of the latest valid donation in the subtree (a report's first look opens on its
    year): the latest month from the stored totals, then the day within it. Two queries."""
    month = latest_month(DONATIONS, branch=branch)
    if month is None:
        return None
    within = (
        Donation.objects.valid().in_subtree(branch).filter(received_on__gte=month, received_on__lte=month_end(month))
    )
    return within.aggregate(day=Max("received_on"))["day"]


RAISED = {"amount": Sum("amount"), "donations": Count("id")}
STORED = {"amount": Sum("amount"), "donations": Sum("count")}


def _raised_parts(branch: Branch, period: Period, *, stored_branch=True) -> tuple[QuerySet, QuerySet | None]:
    """The stored totals of the period's whole months (rows of `branch`'s subtree) and the
    donations of its partial months at either end, counted live (None when there are none)."""
    first, last, live = whole_months(period.start, period.end)
    stored = DonationMonthTotal.objects.filter(month__gte=first, month__lte=last)
    if first > last:
        stored = stored.none()
    if stored_branch:
        stored = stored.filter(branch=branch)
    if not live:
        return stored, None
    days = Q()
    for low, high in live:
        days |= Q(received_on__gte=low, received_on__lte=high)
    return stored, donations_in(branch, period).filter(days)


def _add(into: dict, key, row: dict) -> None:
    figures = into.setdefault(key, {"amount": 0, "donations": 0})
    figures["amount"] += row["amount"] or 0
    figures["donations"] += row["donations"] or 0


def raised_total(branch: Branch, period: Period) -> dict:
    """Amount and number of the valid donations of the subtree in the period (stored totals
    of the whole months, the partial ones live): one or two queries."""
    stored, live = _raised_parts(branch, period)
    totals = {"amount": 0, "donations": 0}
    parts = [stored.aggregate(**STORED)] + ([live.aggregate(**RAISED)] if live is not None else [])
    for part in parts:
        totals["amount"] += part["amount"] or 0
        totals["donations"] += part["donations"] or 0
    return totals


def raised_by_fund_model(branch: Branch, period: Period) -> list[Row]:
    stored, live = _raised_parts(branch, period)
    by_model: dict[tuple, dict] = {}
    names = ("fund_model__ordering", "fund_model__name", "fund_model_id")
    for row in stored.values(*names).annotate(**STORED).order_by():
        _add(by_model, tuple(row[name] for name in names), row)
    if live is not None:
        live_names = tuple(f"fund__{name}" for name in names)
        for row in live.values(*live_names).annotate(**RAISED).order_by():
            _add(by_model, tuple(row[name] for name in live_names), row)
    return [
        Row(label=key[1], figures=figures, filters={"fund_model": key[2]})
        for key, figures in sorted(by_model.items())
        if figures["donations"]
    ]


def raised_by_branch(branch: Branch, period: Period) -> list[Row]:
    """Per child of `branch`, and the branch's own donations: the branch and its children
    (one query, which also names the rows), their stored rows by id (the own figure is the
    branch's subtree less its children's), the partial months live. Two or three queries."""
    stored, live = _raised_parts(branch, period, stored_branch=False)
    nodes = {
        node.pk: node
        for node in Branch.objects.filter(path__startswith=branch.path, depth__lte=branch.depth + 1).order_by("path")
    }
    by_prefix: dict[str, dict] = {}
    subtree = {"amount": 0, "donations": 0}
    for row in stored.filter(branch_id__in=list(nodes)).values("branch_id").annotate(**STORED).order_by():
        if row["branch_id"] == branch.pk:
            subtree = {"amount": row["amount"] or 0, "donations": row["donations"] or 0}
        else:
            _add(by_prefix, nodes[row["branch_id"]].path, row)
    own = {
        "amount": subtree["amount"] - sum(f["amount"] for f in by_prefix.values()),
        "donations": subtree["donations"] - sum(f["donations"] for f in by_prefix.values()),
    }
    if own["donations"]:
        by_prefix[branch.path] = own
    if live is not None:
        grouped = live.annotate(prefix=child_prefix(branch, "fund__branch__path")).values("prefix").annotate(**RAISED)
        for row in grouped.order_by():
            _add(by_prefix, row["prefix"], row)
    by_path = {node.path: node for node in nodes.values()}
    return child_rows(branch, {prefix: f for prefix, f in by_prefix.items() if f["donations"]}, nodes=by_path)


def raised_by_month(branch: Branch, period: Period) -> list[Row]:
    stored, live = _raised_parts(branch, period)
    by_month: dict[datetime.date, dict] = {}
    for row in stored.values("month").annotate(**STORED).order_by():
        _add(by_month, row["month"], row)
    if live is not None:
        for row in live.annotate(month=TruncMonth("received_on")).values("month").annotate(**RAISED).order_by():
            month = row["month"]
            _add(by_month, month.date() if hasattr(month, "date") else month, row)
    rows = []
    for month, figures in sorted(by_month.items()):
        if not figures["donations"]:
            continue
        start, end = max(month, period.start), min(month_end(month), period.end)
        rows.append(
            Row(
                label=f"{month:%m/%Y}",
                figures=figures,
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


def balances(branch: Branch) -> tuple[dict, list[Row], list[Row]]:
    """`balances_total`, `balances_by_branch` and `balances_by_fund_model` together, from one
    query grouped by child branch and fund model (the report page shows all three), plus one
    for the branches' names."""
    grouped = (
        Fund.objects.in_subtree(branch)
        .annotate(prefix=child_prefix(branch, "branch__path"))
        .values("prefix", "fund_model_id", "fund_model__name", "fund_model__ordering")
        .annotate(**BALANCE)
        .order_by()
    )
    total = {"balance": 0, "funds": 0}
    by_prefix: dict[str, dict] = {}
    by_model: dict[tuple, dict] = {}
    for row in grouped:
        model_key = (row["fund_model__ordering"], row["fund_model__name"], row["fund_model_id"])
        in_branch = by_prefix.setdefault(row["prefix"], {"balance": 0, "funds": 0})
        in_model = by_model.setdefault(model_key, {"balance": 0, "funds": 0})
        for figures in (total, in_branch, in_model):
            figures["balance"] += row["balance"] or 0
            figures["funds"] += row["funds"]
    models_rows = [
        Row(label=key[1], figures=figures, filters={"fund_model": key[2]}) for key, figures in sorted(by_model.items())
    ]
    return total, child_rows(branch, by_prefix), models_rows
