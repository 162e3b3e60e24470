"""What the pages of funds and scholarships share (not views themselves): the void action of a
money record, the branch and period a report page asks for, and the links from each report
figure to the list of the records behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from funds.forms import ReportForm, VoidForm, report_root
from funds.periods import Period


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


def report_scope(request):
    """The branch and period a report page asks for, defaulting to the user's branch and this year."""
    root = report_root(request.user)
    if root is None:
        raise PermissionDenied
    form = ReportForm(request.GET or None, user=request.user)
    branch, period = root, Period.calendar_year(timezone.localdate().year)
    if form.is_bound and form.is_valid():
        branch = form.cleaned_data.get("branch") or root
        period = form.cleaned_data["value"]
    return form, branch, period


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
