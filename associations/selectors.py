"""Reads of the registry: the filtered lists every page and export shares."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from associations.access import user_root_branch
from associations.models import (
    AuditEntry,
    Branch,
    BranchLevel,
    Member,
    MemberCategory,
    Organization,
    OrganizationKind,
)
from associations.privacy import sees_personal_data
from khuyenhoc.db import vietnamese_order
from khuyenhoc.search import LIMIT, SearchKey, words
from khuyenhoc.text import search_key, vietnamese_sort_key

MEMBER_SORTS = {
    "name": ("full_name", False),
    "-name": ("full_name", True),
    "category": ("category", False),
    "-category": ("category", True),
    "branch": ("branch__path", False),
    "-branch": ("branch__path", True),
    "joined": ("joined_on", False),
    "-joined": ("joined_on", True),
}
ORGANIZATION_SORTS = {
    "name": ("name", False),
    "-name": ("name", True),
    "kind": ("kind", False),
    "-kind": ("kind", True),
    "branch": ("branch__path", False),
    "-branch": ("branch__path", True),
    "active_from": ("active_from", False),
    "-active_from": ("active_from", True),
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
    if field == "full_name":
        primary = vietnamese_order(field, descending=descending, key="name_sort")
    elif field == "name":
        primary = vietnamese_order(field, descending=descending)
    else:
        primary = f"-{field}" if descending else field
    return queryset.order_by(primary, "-id" if descending else "id")


def selected_ids(params) -> list[int] | None:
    """The ids of the rows checked on a list (`?ids=1&ids=2`), or None when none was checked."""
    values = params.getlist("ids") if hasattr(params, "getlist") else params.get("ids") or []
    ids = [pk for pk in (_int(value) for value in values) if pk is not None]
    return ids or None


def _visible_in_branch(model, user, params: dict) -> QuerySet:
    """The rows the user may see, narrowed to the subtree of the branch the list asks for."""
    queryset = model.objects.visible_to(user)
    branch = branch_in_scope(user, params.get("branch"))
    return queryset if branch is None else queryset.in_subtree(branch)


def _active_or_ended(queryset: QuerySet, params: dict, *, ended_on: str) -> QuerySet:
    """?active=1 keeps the rows active today, ?active=0 those ended by today (`ended_on` ≤ today)."""
    today = timezone.localdate()
    if params.get("active") == "1":
        return queryset.active_on(today)
    if params.get("active") == "0":
        return queryset.filter(**{f"{ended_on}__lte": today})
    return queryset


def members_filtered(user, params: dict) -> QuerySet:
    """Members the user may see, filtered by q, branch (its whole subtree), category, active; sorted.

    The access rule and the branch filter are plain prefixes of the branch's path on the
    joined branch (`visible_by_prefixes`), which the planner estimates well at any size."""
    queryset = Member.objects.visible_by_prefixes(user)
    branch = branch_in_scope(user, params.get("branch"))
    if branch is not None:
        queryset = queryset.filter(branch__path__startswith=branch.path)
    if (ids := selected_ids(params)) is not None:
        queryset = queryset.filter(pk__in=ids)
    if params.get("q"):
        queryset = queryset.search(params["q"])
    if params.get("category") in MemberCategory.values:
        queryset = queryset.filter(category=params["category"])
    queryset = _active_or_ended(queryset, params, ended_on="left_on")
    return _order(queryset.select_related("branch", "organization"), MEMBER_SORTS, params.get("sort"), "name")


def organizations_filtered(user, params: dict) -> QuerySet:
    queryset = _visible_in_branch(Organization, user, params)
    if params.get("q"):
        queryset = queryset.filter(name_search__contains=search_key(params["q"]))
    if params.get("kind") in OrganizationKind.values:
        queryset = queryset.filter(kind=params["kind"])
    queryset = _active_or_ended(queryset, params, ended_on="active_to")
    return _order(queryset.select_related("branch"), ORGANIZATION_SORTS, params.get("sort"), "name")


def branch_children_with_counts(user, parent: Branch | None) -> list[dict]:
    """The children of a branch (or the user's root) with their subtree sizes, in a fixed number of queries.

    Subtree counts come from one GROUP BY over path prefixes, not a query per child.
    """
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
    root = user_root_branch(user)
    return root.depth if root else 1


def history_of(obj) -> QuerySet:
    return AuditEntry.objects.for_object(obj).select_related("actor")


def members_like(*, full_name: str, date_of_birth, branch, exclude_pk: int | None = None) -> QuerySet:
    """Registered members who look like the same person: the same name (ignoring accents and
    case), date of birth and branch, as the member import matches a row without a citizen ID
    (RegistryImport.match_person). A form warns before adding one more. At most 5."""
    queryset = Member.objects.filter(name_search=search_key(full_name), branch=branch)
    if date_of_birth is None:
        queryset = queryset.filter(date_of_birth__isnull=True)
    else:
        queryset = queryset.filter(date_of_birth=date_of_birth)
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.select_related("branch").order_by("pk")[:5]


# --- Pickers (search as you type) -----------------------------------------------------------

PATH_SEPARATOR = " › "


def branches_for_picker(user, text: str, *, levels: list[str] | None = None) -> tuple[list[dict], bool]:
    """The branches of the user's subtree whose name holds every typed word (accents and case
    ignored; a word of digits also finds a branch by its code), in tree order, each with its
    path below the city ("Quận Ba Đình › Phường Phúc Xá"). Two queries."""
    queryset = Branch.objects.visible_to(user)
    levels = [level for level in (levels or []) if level in BranchLevel.values]
    if levels:
        queryset = queryset.filter(level__in=levels)
    typed = words(text)
    if typed:
        queryset = queryset.annotate(key=SearchKey("name"))
        for word in typed:
            queryset = queryset.filter(
                Q(key__contains=word) | Q(code=word) if word.isdigit() else Q(key__contains=word)
            )
    rows = list(queryset.order_by("path").values("pk", "name", "path", "depth")[: LIMIT + 1])
    steplen = Branch.steplen
    above = {row["path"][: steplen * level] for row in rows[:LIMIT] for level in range(2, row["depth"])}
    names = dict(Branch.objects.filter(path__in=above).values_list("path", "name")) if above else {}
    results = []
    for row in rows[:LIMIT]:
        trail = [names.get(row["path"][: steplen * level], "") for level in range(2, row["depth"])]
        results.append(
            {
                "value": str(row["pk"]),
                "label": row["name"],
                "detail": PATH_SEPARATOR.join([*trail, row["name"]]),
                "depth": row["depth"],
            }
        )
    return results, len(rows) > LIMIT


def organizations_for_picker(user, text: str) -> tuple[list[dict], bool]:
    """The organisations of the user's subtree whose name holds every typed word, with their
    branch. One query."""
    queryset = Organization.objects.visible_to(user)
    for word in words(text):
        queryset = queryset.filter(name_search__contains=word)
    rows = list(queryset.order_by("name_search", "pk").values("pk", "name", "branch__name")[: LIMIT + 1])
    results = [{"value": str(row["pk"]), "label": row["name"], "detail": row["branch__name"]} for row in rows[:LIMIT]]
    return results, len(rows) > LIMIT


def members_for_picker(user, text: str) -> tuple[list[dict], bool]:
    """The members of the user's subtree whose name holds every typed word, or, typed as
    digits by someone who may see personal data, whose citizen ID starts with them. Shown with
    their year of birth (never the full date) and branch. One query."""
    queryset = Member.objects.visible_to(user)
    typed = words(text)
    digits = "".join(typed)
    if typed and digits.isdigit():
        if not sees_personal_data(user) or len(digits) < 3:
            return [], False
        queryset = queryset.filter(citizen_id__startswith=digits)
    else:
        for word in typed:
            queryset = queryset.filter(name_search__contains=word)
    rows = list(
        queryset.order_by("name_search", "pk").values("pk", "full_name", "date_of_birth", "branch__name")[: LIMIT + 1]
    )
    results = []
    for row in rows[:LIMIT]:
        born = row["date_of_birth"]
        detail = " · ".join(part for part in (str(born.year) if born else "", row["branch__name"]) if part)
        results.append({"value": str(row["pk"]), "label": row["full_name"], "detail": detail})
    return results, len(rows) > LIMIT
