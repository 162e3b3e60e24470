"""What the report pages of funds and scholarships share: the branch and period a page asks
for, and the links from each figure to the list of the records behind it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from funds.forms import ReportForm, report_root
from funds.periods import Period


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
