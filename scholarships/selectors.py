"""Reads behind the scholarships lists and pages. Branch filters go through the querysets'
subtree rule (`in_subtree`, `visible_to`), never through paths written out here.

The report figures live in `scholarships.reports`, the read module of the report page.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from associations.models import Branch
from funds.models import Fund
from funds.selectors import payment_ledger_entries
from funds.totals import list_sums
from funds.visibility import visible_records
from khuyenhoc.search import LIMIT, SearchKey, words
from khuyenhoc.text import search_key
from scholarships.models import Award, ScholarshipRound
from scholarships.totals import AWARDS


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


# Distinct recipients cannot be summed from stored rows (one person awarded in two months,
# or two branches, is one recipient): they are counted live, exactly, and only for a
# selection of at most this many turns; above it the list says to narrow the filter.
RECIPIENTS_LIMIT = 30_000


def award_totals(user, form) -> dict:
    """The award list's totals line: turns and amount of the valid awards the filter form
    selects — from the stored totals (`funds.totals`) when its filters allow, else counted
    live (a round, a fund, a text search, a branch's own awards) — and their distinct
    recipients, counted live when the turns are at most RECIPIENTS_LIMIT, else None."""
    records = form.filter(visible_records(Award.objects.all(), user))
    data = form.cleaned_data if form.is_bound else {}
    totals = None
    if not (data.get("own") or data.get("round") or data.get("fund") or (data.get("q") or "").strip()):
        dimensions = {"recipient_kind": data.get("recipient_kind"), "category": data.get("category")}
        totals = list_sums(AWARDS, user=user, records=records, data=data, dimensions=dimensions)
    if totals is None:
        totals = records.valid().aggregate(count=Count("id"), amount=Coalesce(Sum("amount"), 0))
    recipients = None
    if totals["count"] <= RECIPIENTS_LIMIT and _few_to_read(user, records, data):
        recipients = 0
        if totals["count"]:
            recipients = records.valid().aggregate(n=Count("recipient_key", distinct=True))["n"]
    return {"turns": totals["count"], "amount": totals["amount"], "recipients": recipients}


def _few_to_read(user, records, data) -> bool:
    """Whether counting the distinct recipients reads few awards. A round or a paying fund is
    read through its index; a kind, a category or a text search narrows the awards only
    after the whole branch and period have been read: their turns there (stored totals,
    without those filters) must be within RECIPIENTS_LIMIT as well."""
    narrowing = data.get("recipient_kind") or data.get("category") or (data.get("q") or "").strip()
    if not narrowing or data.get("round"):
        return True
    if data.get("own"):
        return False
    scope = list_sums(AWARDS, user=user, records=records, data=data, dimensions={})
    return scope is not None and scope["count"] <= RECIPIENTS_LIMIT
