"""Reads behind the funds lists and forms. Branch filters go through the querysets' subtree
rule (`in_subtree`, `visible_to`, `of_branch`), never through paths written out here.

The report figures live in `funds.reports`, the read module of the report pages.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from associations.models import Branch
from funds.models import Donation, Fund, FundModel, LedgerEntry, VoidableQuerySet
from funds.totals import DONATIONS, list_sums
from funds.visibility import visible_records
from khuyenhoc.search import LIMIT, SearchKey, words


def records_filter(
    queryset: VoidableQuerySet,
    *,
    date_field: str,
    branch: Branch | None = None,
    own: bool = False,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    state: str = "valid",
) -> QuerySet:
    """Money records (donations, transfers, awards) narrowed by branch, dates and void state.

    `branch` takes its subtree, or with `own` its own records only; a transfer belongs to
    the branches at either end.
    """
    if branch is not None:
        queryset = queryset.of_branch(branch) if own else queryset.in_subtree(branch)
    if start:
        queryset = queryset.filter(**{f"{date_field}__gte": start})
    if end:
        queryset = queryset.filter(**{f"{date_field}__lte": end})
    if state == "valid":
        queryset = queryset.valid()
    elif state == "voided":
        queryset = queryset.voided()
    return queryset


def donations_filter(
    queryset: QuerySet,
    *,
    fund: Fund | None = None,
    fund_model: FundModel | None = None,
    donor_kind: str = "",
    method: str = "",
    q: str = "",
) -> QuerySet:
    """Donations of a fund or fund model, of a donor kind or method, or matching a donor's
    name or a receipt number."""
    if fund:
        queryset = queryset.filter(fund=fund)
    if fund_model:
        queryset = queryset.filter(fund__fund_model=fund_model)
    if donor_kind:
        queryset = queryset.filter(donor_kind=donor_kind)
    if method:
        queryset = queryset.filter(method=method)
    text = (q or "").strip()
    if text:
        if text.isdigit():
            queryset = queryset.filter(receipt_number=int(text))
        else:
            queryset = queryset.filter(donor_name__icontains=text)
    return queryset


def funds_filter(
    queryset: QuerySet,
    *,
    branch: Branch | None = None,
    own: bool = False,
    fund_model: FundModel | None = None,
    legal_form: str = "",
) -> QuerySet:
    if branch is not None:
        queryset = queryset.of_branch(branch) if own else queryset.in_subtree(branch)
    if fund_model:
        queryset = queryset.filter(fund_model=fund_model)
    if legal_form:
        queryset = queryset.filter(legal_form=legal_form)
    return queryset


def funds_to_pay_from(user, day: datetime.date) -> QuerySet:
    """The funds a user may pick to record money in or out: visible to them, not closed."""
    return Fund.objects.visible_to(user).not_closed_on(day).order_by("name")


def payment_ledger_entries(payment_id: int | None) -> QuerySet:
    """A payment's ledger rows (the payment and any reversal), oldest first; none without a payment."""
    if payment_id is None:
        return LedgerEntry.objects.none()
    return (
        LedgerEntry.objects.filter(payment_id=payment_id)
        .select_related("fund", "payment", "created_by", "reverses")
        .order_by("id")
    )


def funds_for_picker(user, text: str) -> tuple[list[dict], bool]:
    """The funds of the user's subtree whose name (or branch's name) holds every typed word,
    accents and case ignored, with their branch. One query."""
    queryset = Fund.objects.visible_to(user)
    typed = words(text)
    if typed:
        queryset = queryset.annotate(key=SearchKey("name"), branch_key=SearchKey("branch__name"))
        for word in typed:
            queryset = queryset.filter(Q(key__contains=word) | Q(branch_key__contains=word))
    rows = list(queryset.order_by("branch__path", "name", "pk").values("pk", "name", "branch__name")[: LIMIT + 1])
    results = [{"value": str(row["pk"]), "label": row["name"], "detail": row["branch__name"]} for row in rows[:LIMIT]]
    return results, len(rows) > LIMIT


def donation_totals(user, form) -> dict:
    """The donation list's totals line ({"count", "amount"} of the valid donations the
    filter form selects): from the stored totals (`funds.totals`) when its filters allow,
    else counted live (a fund, a text search, a branch's own donations)."""
    records = form.filter(visible_records(Donation.objects.all(), user))
    data = form.cleaned_data if form.is_bound else {}
    if not (data.get("own") or data.get("fund") or (data.get("q") or "").strip()):
        fund_model = data.get("fund_model")
        dimensions = {
            "fund_model_id": fund_model.pk if fund_model else None,
            "donor_kind": data.get("donor_kind"),
            "method": data.get("method"),
        }
        totals = list_sums(DONATIONS, user=user, records=records, data=data, dimensions=dimensions)
        if totals is not None:
            return totals
    return records.valid().aggregate(amount=Coalesce(Sum("amount"), 0), count=Count("id"))
