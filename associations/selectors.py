"""Reads of the registry: the filtered lists every page and export shares."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils import timezone

from associations.models import (
    AuditEntry,
    Branch,
    Member,
    MemberCategory,
    Organization,
    OrganizationKind,
)
from khuyenhoc.db import vietnamese_order
from khuyenhoc.text import vietnamese_sort_key

MEMBER_SORTS = {
    "name": ("full_name", False),
    "-name": ("full_name", True),
    "joined": ("joined_on", False),
    "-joined": ("joined_on", True),
}
ORGANIZATION_SORTS = {
    "name": ("name", False),
    "-name": ("name", True),
    "kind": ("kind", False),
}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def branch_in_scope(user, branch_id) -> Branch | None:
    """The branch with that id if the user may see it, else None (never an error)."""
    pk = _int(branch_id)
    if pk is None:
        return None
    return Branch.objects.visible_to(user).filter(pk=pk).first()


def _order(queryset: QuerySet, sorts: dict, key: str | None, default: str) -> QuerySet:
    field, descending = sorts.get(key or default, sorts[default])
    if field in {"full_name", "name"}:
        primary = vietnamese_order(field, descending=descending)
    else:
        primary = f"-{field}" if descending else field
    return queryset.order_by(primary, "-id" if descending else "id")


def members_filtered(user, params: dict) -> QuerySet:
    """Members the user may see, filtered by q, branch (its whole subtree), category, active; sorted."""
    queryset = Member.objects.visible_to(user)
    branch = branch_in_scope(user, params.get("branch"))
    if branch is not None:
        queryset = queryset.in_subtree(branch)
    if params.get("q"):
        queryset = queryset.search(params["q"])
    if params.get("category") in MemberCategory.values:
        queryset = queryset.filter(category=params["category"])
    active = params.get("active")
    today = timezone.localdate()
    if active == "1":
        queryset = queryset.active_on(today)
    elif active == "0":
        queryset = queryset.filter(left_on__lte=today)
    return _order(queryset.select_related("branch", "organization"), MEMBER_SORTS, params.get("sort"), "name")


def organizations_filtered(user, params: dict) -> QuerySet:
    queryset = Organization.objects.visible_to(user)
    branch = branch_in_scope(user, params.get("branch"))
    if branch is not None:
        queryset = queryset.in_subtree(branch)
    if params.get("q"):
        from khuyenhoc.text import search_key

        queryset = queryset.filter(name_search__contains=search_key(params["q"]))
    if params.get("kind") in OrganizationKind.values:
        queryset = queryset.filter(kind=params["kind"])
    active = params.get("active")
    today = timezone.localdate()
    if active == "1":
        queryset = queryset.active_on(today)
    elif active == "0":
        queryset = queryset.filter(active_to__lte=today)
    return _order(queryset.select_related("branch"), ORGANIZATION_SORTS, params.get("sort"), "name")


def branch_children_with_counts(user, parent: Branch | None) -> list[dict]:
    """The children of a branch (or the user's root) with their subtree sizes, in a fixed number of queries.

    Subtree counts come from one GROUP BY over path prefixes, not a query per child.
    """
    from django.db.models.functions import Substr

    if parent is None:
        roots = list(Branch.objects.visible_to(user).filter(depth=_min_depth(user)))
        children = roots
    else:
        children = list(Branch.objects.get_children(parent))
    if not children:
        return []
    depth = children[0].depth
    prefix_len = depth * Branch.steplen
    parent_prefix = children[0].path[: prefix_len - Branch.steplen]
    prefix = Substr("branch__path", 1, prefix_len)
    today = timezone.localdate()

    members = dict(
        Member.objects.filter(branch__path__startswith=parent_prefix)
        .active_on(today)
        .annotate(prefix=prefix)
        .values("prefix")
        .annotate(n=Count("id"))
        .values_list("prefix", "n")
    )
    organizations = dict(
        Organization.objects.filter(branch__path__startswith=parent_prefix)
        .annotate(prefix=prefix)
        .values("prefix")
        .annotate(n=Count("id"))
        .values_list("prefix", "n")
    )
    return [
        {
            "branch": child,
            "members": members.get(child.path, 0),
            "organizations": organizations.get(child.path, 0),
        }
        # Official order (the statistics office's codes) for administrative units, then by name.
        for child in sorted(children, key=lambda b: (b.code == "", b.code, vietnamese_sort_key(b.name)))
    ]


def _min_depth(user) -> int:
    from associations.access import user_root_branch

    root = user_root_branch(user)
    return root.depth if root else 1


def history_of(obj) -> QuerySet:
    return AuditEntry.objects.for_object(obj).select_related("actor")
