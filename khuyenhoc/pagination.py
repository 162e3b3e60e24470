"""Paged lists: one context contract for every list page and `templates/partials/pagination.html`.

`paged(request, queryset)` gives the template `page` (the Page shown), `paginator` (for the
result count) and `query` (the list's other parameters, which the page links keep).

CappedPaginator never counts a whole huge table: a list of 2 million members counts at most
CAP + 1 rows (`SELECT COUNT(*) FROM (… LIMIT CAP + 1)`), shows "more than 10.000" beyond
that, and pages only as far as the cap.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

CAP = 10_000
PAGE_SIZE = 50


class CappedPaginator(Paginator):
    cap = CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap


def query_without_page(request) -> str:
    """The request's query string less the page number and the export format."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return query.urlencode()


def paged(request, queryset, *, size: int = PAGE_SIZE, paginator_class: type[Paginator] = Paginator) -> dict:
    """The context of a paged list: page, paginator and query (see the module's docstring)."""
    paginator = paginator_class(queryset, size)
    return {
        "page": paginator.get_page(request.GET.get("page")),
        "paginator": paginator,
        "query": query_without_page(request),
    }
