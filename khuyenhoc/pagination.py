"""Pagination that never counts a whole huge table.

A list of 2 million members counts at most CAP + 1 rows (`SELECT COUNT(*) FROM (… LIMIT
CAP + 1)`), shows "more than 10.000" beyond that, and pages only as far as the cap.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

CAP = 10_000


class CappedPaginator(Paginator):
    cap = CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap
