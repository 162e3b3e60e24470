"""The funds' measures in the catalogue (khuyenhoc.measures): money raised and donations.

Counted as funds/reports.py counts "money raised": donations not voided, by the day they were
received (from `start` to `end`, both included; no `start`: everything up to `end`), in whole
đồng, each at the branch of the fund that received it. One query per compute.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from associations.models import Branch
from funds.models import Donation
from khuyenhoc.measures import Measure, Timing, Unit, register


def _donations(root: Branch, start: datetime.date | None, end: datetime.date) -> QuerySet:
    rows = Donation.objects.valid().order_by().in_subtree(root).filter(received_on__lte=end)
    if start is not None:
        rows = rows.filter(received_on__gte=start)
    return rows.values("fund__branch_id")


def _raised(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    rows = _donations(root, start, end).annotate(amount=Sum("amount")).values_list("fund__branch_id", "amount")
    return {branch_id: amount for branch_id, amount in rows if amount}


def _donation_count(*, root: Branch, start, end: datetime.date, filters: Mapping[str, list[str]]) -> dict[int, int]:
    rows = _donations(root, start, end).annotate(n=Count("id")).values_list("fund__branch_id", "n")
    return {branch_id: n for branch_id, n in rows if n}


RAISED = Measure(
    code="funds.raised",
    label=_("Money raised"),
    source=_("Funds: donations received in the period, voided ones left out"),
    unit=Unit.DONG,
    timing=Timing.OVER_PERIOD,
    compute=_raised,
    description=_("Counted at the branch of the fund that received the donation; gifts in kind at their value."),
)
DONATIONS = Measure(
    code="funds.donations",
    label=_("Donations"),
    source=_("Funds: donations received in the period, voided ones left out"),
    unit=Unit.COUNT,
    timing=Timing.OVER_PERIOD,
    compute=_donation_count,
    description=_("Counted at the branch of the fund that received the donation."),
)

MEASURES = (RAISED, DONATIONS)


def measures_register() -> None:
    """Add the funds' measures to the catalogue; called from FundsConfig.ready()."""
    for measure in MEASURES:
        register(measure)
