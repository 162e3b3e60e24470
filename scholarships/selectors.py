"""Reads behind the scholarships lists and pages. Branch filters go through the querysets'
subtree rule (`in_subtree`, `visible_to`), never through paths written out here.

The report figures live in `scholarships.reports`, the read module of the report page.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from associations.models import Branch
from funds.models import Fund
from funds.selectors import payment_ledger_entries
from khuyenhoc.search import LIMIT, SearchKey, words
from khuyenhoc.text import search_key
from scholarships.models import Award, ScholarshipRound


def rounds_for_picker(user, text: str) -> tuple[list[dict], bool]:
    """The rounds of the user's subtree whose name (or branch's name) holds every typed word,
    accents and case ignored, newest first, with their branch and date. One query."""
    queryset = ScholarshipRound.objects.visible_to(user)
    typed = words(text)
    if typed:
        queryset = queryset.annotate(key=SearchKey("name"), branch_key=SearchKey("branch__name"))
        for word in typed:
            queryset = queryset.filter(Q(key__contains=word) | Q(branch_key__contains=word))
    rows = list(queryset.order_by("-awarded_on", "-id").values("pk", "name", "branch__name", "awarded_on")[: LIMIT + 1])
    results = [
        {
            "value": str(row["pk"]),
            "label": row["name"],
            "detail": f"{row['branch__name']} · {row['awarded_on']:%d/%m/%Y}",
        }
        for row in rows[:LIMIT]
    ]
    return results, len(rows) > LIMIT


def rounds_filter(queryset: QuerySet, *, branch: Branch | None = None, school_year: str = "") -> QuerySet:
    if branch is not None:
        queryset = queryset.in_subtree(branch)
    if school_year.strip():
        queryset = queryset.filter(school_year=school_year.strip())
    return queryset


def awards_filter(
    queryset: QuerySet,
    *,
    scholarship_round: ScholarshipRound | None = None,
    fund: Fund | None = None,
    recipient_kind: str = "",
    category: str = "",
    q: str = "",
) -> QuerySet:
    """Awards of a round or a paying fund, of a recipient kind or category, or matching a
    recipient's ID or (diacritics ignored) part of their name."""
    if scholarship_round:
        queryset = queryset.filter(round=scholarship_round)
    if fund:
        queryset = queryset.filter(round__fund=fund)
    if recipient_kind:
        queryset = queryset.filter(recipient_kind=recipient_kind)
    if category:
        queryset = queryset.filter(category=category)
    text = (q or "").strip()
    if text:
        queryset = queryset.filter(Q(recipient_id=text.upper()) | Q(recipient_name_search__contains=search_key(text)))
    return queryset


def award_ledger_entries(award: Award) -> QuerySet:
    """The ledger rows of an award's payment (its payment and any reversal), oldest first."""
    return payment_ledger_entries(award.payment_id)
