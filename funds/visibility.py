"""`visible_to(user)` for the big money lists, in the form PostgreSQL plans well.

`visible_to` selects the rows of the user's subtree and of its history (the branches it
came from through applied reorganisations) by one IN list built from a recursive query.
For a city account that list holds all 30 000 branches, and the planner, expecting 200,
joined the city's 1.1 million donations to it row by row: 390 ms for the first page of
the donations list. When the subtree has no history outside it (the city's case, and any
branch no reorganisation brought in from elsewhere), the same rows are `in_subtree(root)`,
which PostgreSQL estimates right: 40 ms.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.apps import apps
from django.db.models import Q, QuerySet

from associations.access import subtree_path, user_root_branch, visible_prefixes

# Above this many branches the user sees, the rows are selected by visible_to's own subquery.
IDS_LIMIT = 20_000


def history_outside(user) -> bool:
    """Whether the user sees records outside their subtree: a branch of it came, through an
    applied reorganisation, from a branch outside it (transitively). From
    `visible_prefixes(user)`: one query, kept on the user for the request (and shared with
    the other lists that select by prefixes); for a city account it never runs the
    recursion."""
    prefixes = visible_prefixes(user)
    return prefixes is not None and len(prefixes) > 1


def visible_branch_ids(user) -> tuple[list[int], list[int]] | None:
    """The ids of the branches a user with a history outside their subtree sees: (those of
    their subtree, those of its history outside it), or None above IDS_LIMIT in all. One
    query (after `visible_prefixes`), remembered for the request.

    The branches are found by their path prefixes, a few ranges of the path index. The
    access module's one-statement form (`visible_branches_sql`: the recursive history joined
    back to the branches) was estimated at ~75 000 rows for Phường Ba Đình's 482, hashed the
    whole tree and crossed the JIT threshold: 160 ms on a quiet machine, ~380 ms under load,
    on every money list of a reorganised unit. By prefixes: ~2 ms."""
    path = subtree_path(user)
    remembered = getattr(user, "_money_visible_ids", None)
    if remembered is not None and remembered[0] == path:
        return remembered[1]
    prefixes = visible_prefixes(user) or []
    ids = None
    if prefixes:
        branches = apps.get_model("associations", "Branch").objects.order_by()
        matches = reduce(or_, (Q(path__startswith=prefix) for prefix in prefixes))
        rows = list(branches.filter(matches).values_list("pk", "path")[: IDS_LIMIT + 1])
        if len(rows) <= IDS_LIMIT:
            inside = {pk for pk, branch_path in rows if branch_path.startswith(path)}
            ids = (sorted(inside), sorted({pk for pk, _path in rows} - inside))
    user._money_visible_ids = (path, ids)
    return ids


def branch_lookup(queryset: QuerySet) -> str:
    """The lookup from a row of a subtree queryset to its branch, e.g. "fund__branch"."""
    return queryset.branch_path_lookup.removesuffix("__path")


def visible_records(queryset: QuerySet, user) -> QuerySet:
    """The same rows as `queryset.visible_to(user)`, for records of one branch (not
    transfers): by `in_subtree` when the user's subtree has no history outside it, else by
    the explicit list of the branches they see (a reorganised ward's few hundred), which
    PostgreSQL also estimates right."""
    path = subtree_path(user)
    if not path:
        return queryset.visible_to(user)
    if not history_outside(user):
        return queryset.in_subtree(user_root_branch(user))
    ids = visible_branch_ids(user)
    if ids is None:
        return queryset.visible_to(user)
    return queryset.filter(**{f"{branch_lookup(queryset)}__in": [*ids[0], *ids[1]]})
