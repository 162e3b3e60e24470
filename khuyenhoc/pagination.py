"""Paged lists: one context contract for every list page and `templates/partials/pagination.html`.

`paged(request, queryset)` gives the template `page` (the Page shown), `paginator` (for the
result count), `page_numbers` (the page links: the first, the last and two either side of the
current one, "…" between) and `query` (the list's other parameters, which the page links keep).

CappedPaginator never counts a whole huge table: a list of 2 million members counts at most
CAP + 1 rows (`SELECT COUNT(*) FROM (… LIMIT CAP + 1)`) and pages only as far as the cap.
Beyond the cap the total shown is an estimate, labelled as one ("khoảng 1.900.000"): on
PostgreSQL the planner's row estimate of the list's own query (EXPLAIN (FORMAT JSON)), or
pg_class.reltuples for a table read unfiltered — one cheap query, whatever the size.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

CAP = 10_000
PAGE_SIZE = 50


def estimate_count(queryset) -> int | None:
    """The planner's estimate of the rows of `queryset` (PostgreSQL), or None elsewhere or on failure."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    queryset = queryset.order_by()
    try:
        with connection.cursor() as cursor:
            if not queryset.query.where and not queryset.query.distinct:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
                )
                row = cursor.fetchone()
                if row and row[0] >= 0:
                    return int(row[0])
            sql, params = queryset.query.sql_with_params()
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
    except Exception:
        return None
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedPaginator(Paginator):
    cap = CAP

    @cached_property
    def count(self) -> int:
        # Without the rows' select_related joins: a LEFT JOIN the count does not need kept
        # SQLite from counting by an index alone (PostgreSQL drops such a join by itself).
        rows = self.object_list.order_by()
        if rows.query.select_related and getattr(rows, "_fields", None) is None:
            rows = rows.select_related(None)
        return rows[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def estimate(self) -> int | None:
        """Beyond the cap, the planner's estimate of the total (never below what was counted)."""
        if not self.is_capped:
            return None
        estimate = estimate_count(self.object_list)
        return None if estimate is None else max(estimate, self.count)


def query_without_page(request) -> str:
    """The request's query string less the page number and the export format."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return query.urlencode()


def query_without_sort(request) -> str:
    """The request's query string less the page number, the export format and the sort key."""
    query = request.GET.copy()
    for key in ("page", "format", "sort"):
        query.pop(key, None)
    return query.urlencode()


def paged(request, queryset, *, size: int = PAGE_SIZE, paginator_class: type[Paginator] = Paginator) -> dict:
    """The context of a paged list: page, paginator, page_numbers and query (see the module's docstring)."""
    paginator = paginator_class(queryset, size)
    page = paginator.get_page(request.GET.get("page"))
    return {
        "page": page,
        "paginator": paginator,
        "page_numbers": list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)),
        "query": query_without_page(request),
        "sort_query": query_without_sort(request),
        "sort": request.GET.get("sort", ""),
    }
