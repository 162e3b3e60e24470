"""What the pages of funds and scholarships share (not views themselves): the void action of a
money record, the branch and period a report page asks for, and the links from each report
figure to the list of the records behind it."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.models import Branch
from associations.selectors import selected_ids
from funds.forms import ReportForm, VoidForm, report_root
from funds.models import DonationMethod, DonorKind, LedgerKind
from funds.periods import Period
from khuyenhoc.money import format_money
from khuyenhoc.pagination import CappedPaginator
from khuyenhoc.rows import choice_labels, pk_url


@dataclass(frozen=True)
class FundLink:
    """A list of another app's records, filtered to one fund (e.g. the awards paid from it):
    registered by that app in its AppConfig.ready(), shown on the fund's page."""

    label: Any  # a lazily translated string
    url_name: str


_FUND_LINKS: list[FundLink] = []


def fund_link_register(link: FundLink) -> None:
    if link not in _FUND_LINKS:
        _FUND_LINKS.append(link)


def fund_links(fund) -> list[tuple[str, str]]:
    """(label, URL) of every registered list, filtered to the fund, voided records included."""
    query = urlencode({"fund": fund.pk, "state": "all"})
    return [(str(link.label), f"{reverse(link.url_name)}?{query}") for link in _FUND_LINKS]


def void_from_post(
    request, *, void: Callable[[str], object], back_to: str, done: str, refused: str | None = None
) -> HttpResponseRedirect:
    """Void a donation, transfer or award with the reason posted, then go back to its page.

    `void(reason)` calls the service; its ValidationError becomes an error message, and so does
    a PermissionDenied when `refused` says what to tell the user (else it stays a 403).
    """
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for voiding."))
        return redirect(back_to)
    try:
        void(form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied:
        if refused is None:
            raise
        messages.error(request, refused)
    else:
        messages.success(request, done)
    return redirect(back_to)


def report_scope(request, *, latest_day: Callable[[Branch], datetime.date | None] | None = None):
    """The branch and period a report page asks for. A first look (nothing asked) opens on the
    user's branch and the latest year that has data there (`latest_day(branch)`, one query),
    not on a current year still empty; the period picker shows that year."""
    root = report_root(request.user)
    if root is None:
        raise PermissionDenied
    params = request.GET.copy()
    params.pop("format", None)
    if params:
        form = ReportForm(request.GET, user=request.user)
        branch, period = root, Period.calendar_year(timezone.localdate().year)
        if form.is_valid():
            branch = form.cleaned_data.get("branch") or root
            period = form.cleaned_data["value"]
        return form, branch, period
    latest = latest_day(root) if latest_day is not None else None
    year = (latest or timezone.localdate()).year
    form = ReportForm(user=request.user, initial={"year": year})
    return form, root, Period.calendar_year(year)


def year_links(request, period: Period) -> dict[str, str] | None:
    """Query strings for the calendar years before and after a report's year (None for
    another kind of period): the period picker's quickest steps."""
    if period.start.month != 1 or period.start.day != 1 or period.end.month != 12 or period.end.day != 31:
        return None
    if period.start.year != period.end.year:
        return None
    links = {}
    for key, year in (("previous", period.start.year - 1), ("next", period.start.year + 1)):
        params = request.GET.copy()
        params.pop("format", None)
        for name in ("months", "start", "end"):
            params.pop(name, None)
        params["period"] = "year"
        params["year"] = str(year)
        links[key] = params.urlencode()
        links[f"{key}_year"] = year
    return links


def link_rows(rows, *, url: str, branch, period: Period | None):
    """Give each report row the URL of its records: the list at `url`, filtered to the row."""
    base = {"branch": branch.pk}
    if period is not None:
        base.update(period.as_query())
    for row in rows:
        row.url = url + "?" + urlencode({**base, **row.filters})
    return rows


def total_link(url: str, branch, period: Period | None) -> str:
    return url + "?" + urlencode({"branch": branch.pk, **(period.as_query() if period else {})})


def counted_paginator(request, form, total: int) -> type[CappedPaginator]:
    """The paginator of a money list whose rows are exactly the valid records its totals line
    counted (the default state, no checked rows): it takes that count instead of counting the
    rows again (up to the cap) and, beyond the cap, instead of the planner's estimate. Any
    other list counts its rows as CappedPaginator does."""
    state = form.cleaned_data.get("state") if form.is_bound else "valid"
    if (state or "valid") != "valid" or selected_ids(request.GET) is not None:
        return CappedPaginator

    class CountedPaginator(CappedPaginator):
        count = min(total, CappedPaginator.cap + 1)
        estimate = total if total > CappedPaginator.cap else None

    return CountedPaginator


LEDGER_FIELDS = (
    "id", "amount", "kind", "occurred_on", "memo", "reverses_id", "donation_id", "payment_id", "transfer_id",
    "donation__receipt_number", "donation__receipt_year", "donation__donor_name", "payment__description",
    "created_by__username", "created_by__first_name", "created_by__last_name",
)  # fmt: skip


def ledger_display_rows(rows) -> list[SimpleNamespace]:
    """What each row of a fund's ledger shows, from `LEDGER_FIELDS` values (the entry with its
    donation, payment and author: four tables; the transfer's funds and the reversed row are
    shown by id only). Joined to all eight related tables, as before, the statement took
    ~60 ms to PLAN on every request (its execution: 0.6 ms)."""
    kinds = choice_labels(LedgerKind)
    donation_url, transfer_url = pk_url("funds:donation_detail"), pk_url("funds:transfer_detail")
    shown = []
    for row in rows:
        amount = row["amount"]
        record = url = ""
        if row["donation_id"]:
            label = f"{row['donation__receipt_number']:05d}/{row['donation__receipt_year']}"
            record = _("Receipt %(number)s — %(donor)s") % {"number": label, "donor": row["donation__donor_name"]}
            url = donation_url(row["donation_id"])
        elif row["payment_id"]:
            record = row["payment__description"] or _("Payment #%(number)s") % {"number": row["payment_id"]}
        elif row["transfer_id"]:
            record = f"{_('Transfer')} #{row['transfer_id']}"
            url = transfer_url(row["transfer_id"])
        author = f"{row['created_by__last_name'] or ''} {row['created_by__first_name'] or ''}".strip()
        shown.append(
            SimpleNamespace(
                id=row["id"],
                pk=row["id"],
                donation_id=row["donation_id"],
                payment_id=row["payment_id"],
                transfer_id=row["transfer_id"],
                occurred_on=row["occurred_on"].strftime("%d/%m/%Y"),
                kind=row["kind"],
                kind_label=kinds.get(row["kind"], row["kind"]),
                reverses_id=row["reverses_id"],
                record=record,
                url=url,
                memo=row["memo"] if row["kind"] == LedgerKind.REVERSAL else "",
                amount=("+" if amount > 0 else "") + format_money(amount),
                amount_class="text-danger" if amount < 0 else "text-success",
                author=author or row["created_by__username"] or "",
            )
        )
    return shown


def donation_rows(donations) -> list:
    """The page's donations with what their row shows computed once (a row's `{% url %}`,
    two `get_FOO_display`, date and money filters and a translated label, 50 times, were most
    of the list's template time under load)."""
    kinds, methods = choice_labels(DonorKind), choice_labels(DonationMethod)
    detail_url = pk_url("funds:donation_detail")
    select = _("Select %(name)s")
    rows = list(donations)
    for donation in rows:
        label = donation.receipt_label
        donation.key = str(donation.pk)
        donation.url = detail_url(donation.pk)
        donation.select_label = select % {"name": label}
        donation.received_shown = donation.received_on.strftime("%d/%m/%Y")
        donation.kind_label = kinds.get(donation.donor_kind, donation.donor_kind)
        donation.method_label = methods.get(donation.method, donation.method)
        donation.amount_shown = format_money(donation.amount)
    return rows
