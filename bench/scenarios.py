"""The load test's pages (bench/locustfile.py, bench/load.py, bench/profile_pages.py): which
demo account requests which path. Imports without Django or locust.

The district-level pages are those of `lanhdao.badinh`, after the 2025 reorganisation the
leader of Phường Ba Đình (the demo moves the old district's leader there); the city pages
those of `lanhdao.hanoi`. A fund's ledger is the page of the fund with the largest balance
the city leader sees (the city's own fund), found at sign-in from the funds list.
"""

from __future__ import annotations

import re

FUND_LEDGER = "<fund>"

# scenario → (demo account, path)
SCENARIOS = {
    "trivial": ("lanhdao.hanoi", "/bench/trivial/"),
    "dashboard_city": ("lanhdao.hanoi", "/plans/dashboard/"),
    "dashboard_district": ("lanhdao.badinh", "/plans/dashboard/"),
    "members_city": ("lanhdao.hanoi", "/registry/members/"),
    "members_district": ("lanhdao.badinh", "/registry/members/"),
    "donations_city": ("lanhdao.hanoi", "/funds/donations/"),
    "awards_city": ("lanhdao.hanoi", "/scholarships/awards/"),
    "fund_ledger_city": ("lanhdao.hanoi", FUND_LEDGER),
    "funds_report_city": ("lanhdao.hanoi", "/funds/reports/"),
}


def scenario_path(get_text, path: str) -> str:
    """The path to request; `get_text(path)` returns a page's HTML for a signed-in client."""
    if path != FUND_LEDGER:
        return path
    page = get_text("/funds/?sort=-balance")
    return re.search(r'href="(/funds/\d+/)"', page).group(1)
