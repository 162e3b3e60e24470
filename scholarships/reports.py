"""Read-side of scholarships: award turns, distinct recipients and amounts, set-based.

A turn (lượt) is one award: the same person awarded twice is two turns. Distinct
recipients count distinct `Award.recipient_key`: the citizen or student ID when it is
known, otherwise the diacritic-free name together with the date of birth. Two awards to
one person recorded once with and once without an ID therefore count as two recipients;
records without an ID or a date of birth count people of the same name as one.
Voided awards count nowhere.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Max, QuerySet, Sum

from associations.models import Branch
from funds.periods import Period
from funds.reports import Row, group_by_child_branch
from scholarships.models import Award, AwardCategory, RecipientKind

FIGURES = {"turns": Count("id"), "recipients": Count("recipient_key", distinct=True), "amount": Sum("amount")}


def awards_in(branch: Branch, period: Period) -> QuerySet:
    return Award.objects.valid().in_subtree(branch).filter(paid_on__gte=period.start, paid_on__lte=period.end)


def latest_award_day(branch: Branch) -> datetime.date | None:
    """The day of the latest valid award in the subtree (a report's first look opens on its year)."""
    return Award.objects.valid().in_subtree(branch).aggregate(day=Max("paid_on"))["day"]


def _clean(figures: dict) -> dict:
    return {"turns": figures["turns"], "recipients": figures["recipients"], "amount": figures["amount"] or 0}


def awards_total(branch: Branch, period: Period) -> dict:
    return _clean(awards_in(branch, period).aggregate(**FIGURES))


def _by_choice(branch: Branch, period: Period, field: str, choices) -> list[Row]:
    grouped = {row[field]: row for row in awards_in(branch, period).values(field).annotate(**FIGURES).order_by()}
    return [
        Row(label=str(label), figures=_clean(grouped[value]), filters={field: value})
        for value, label in choices
        if value in grouped
    ]


def awards_by_recipient_kind(branch: Branch, period: Period) -> list[Row]:
    return _by_choice(branch, period, "recipient_kind", RecipientKind.choices)


def awards_by_category(branch: Branch, period: Period) -> list[Row]:
    return _by_choice(branch, period, "category", AwardCategory.choices)


def awards_by_kind_and_category(branch: Branch, period: Period) -> list[Row]:
    grouped = {
        (row["recipient_kind"], row["category"]): row
        for row in awards_in(branch, period).values("recipient_kind", "category").annotate(**FIGURES).order_by()
    }
    rows = []
    for kind, kind_label in RecipientKind.choices:
        for category, category_label in AwardCategory.choices:
            if (kind, category) in grouped:
                rows.append(
                    Row(
                        label=f"{kind_label} — {category_label}",
                        figures=_clean(grouped[(kind, category)]),
                        filters={"recipient_kind": kind, "category": category},
                    )
                )
    return rows


def awards_by_branch(branch: Branch, period: Period) -> list[Row]:
    rows = group_by_child_branch(awards_in(branch, period), branch=branch, path_lookup="round__branch__path", **FIGURES)
    for row in rows:
        row.figures = _clean(row.figures)
    return rows
