"""The one access rule, for reads and writes: a user sees and changes only the subtree of
their own branch (docs/ARCHITECTURE.md, "Access").

- Reads: every list goes through the queryset methods of `SubtreeQuerySetMixin`,
  `visible_to(user)` (the user's subtree) or `in_subtree(branch)` (a subtree the caller has
  already been allowed to see); every detail page fetches through `get_visible_or_404`: an
  object outside the subtree answers 404 (its existence is not revealed), and a read-only
  role asking to change one answers 403.
- Writes: every service that places or changes a record under a branch calls
  `require_write_in(actor, branch)` first: 403 (PermissionDenied) outside the subtree or
  for a read-only role. Views check the same before they call the service; the service's
  check is what holds for admin, import and command paths too.
- History (issue 11): a user also sees, read-only, the branches their subtree came from
  through applied reorganisations (transitively) and what is still attached to them: a
  clerk of a new ward reads the history of the communes it replaced. What moved from those
  branches to a sibling successor is outside the user's subtree now, and stays unseen.
  Nothing is written under a branch dissolved on or before today, or below one, by anyone.

The models are reached through the app registry, not imported: the registry's models use
the queryset mixin defined here.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, Case, Q, Value, When
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _


def staff_profile(user):
    """The user's StaffProfile (cached on the user for the request), or None."""
    return apps.get_model("associations", "StaffProfile").for_user(user)


def user_root_branch(user):
    """The branch whose subtree the user sees; None for a superuser (everything) or a user
    without a profile (nothing): `subtree_path` tells the two apart."""
    if user.is_superuser:
        return None
    profile = staff_profile(user)
    return profile.branch if profile else None


_EVERYTHING = ""


def subtree_path(user) -> str | None:
    """The path prefix of everything the user may see: "" for a superuser, None for nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return _EVERYTHING
    profile = staff_profile(user)
    return profile.branch.path if profile else None


def can_write(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    profile = staff_profile(user)
    return bool(profile and profile.can_write)


def can_manage(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    profile = staff_profile(user)
    return bool(profile and profile.can_manage)


def require_write(user) -> None:
    if not can_write(user):
        raise PermissionDenied


def require_manage(user) -> None:
    if not can_manage(user):
        raise PermissionDenied


def in_scope(user, branch) -> bool:
    """Whether `branch` lies in the subtree the user may see."""
    root = subtree_path(user)
    return root is not None and branch.path.startswith(root)


def dissolved_at_or_above(branch):
    """The branch itself or its nearest ancestor dissolved on or before today, or None.

    Read once per branch object and kept on it (an import's chunks share one root object:
    the chunks after the first cost no query)."""
    today = timezone.localdate()
    if branch.dissolved_on is not None and branch.dissolved_on <= today:
        return branch
    cached = getattr(branch, "_dissolved_at_or_above", None)
    if cached is not None and cached[0] == (today, branch.path):
        return cached[1]
    prefixes = [branch.path[:end] for end in range(branch.steplen, len(branch.path), branch.steplen)]
    Branch = apps.get_model("associations", "Branch")
    found = Branch.objects.filter(path__in=prefixes, dissolved_on__lte=today).order_by("-depth").first()
    branch._dissolved_at_or_above = ((today, branch.path), found)
    return found


def dissolved_message(branch) -> str:
    return _("%(name)s was dissolved on %(date)s: its records are kept as history and can no longer be changed.") % {
        "name": branch.name,
        "date": date_format(branch.dissolved_on, "d/m/Y"),
    }


def require_write_in(user, branch, *, manage: bool = False) -> None:
    """The write-side rule, used by every service: refuse (403) a change under a branch
    outside the user's subtree, or by a role that may not write (or, with manage=True,
    may not manage accounts), or under a branch dissolved on or before today (or below
    one): a dissolved branch is read-only history, for everyone."""
    if not in_scope(user, branch):
        raise PermissionDenied
    if manage:
        require_manage(user)
    else:
        require_write(user)
    dissolved = dissolved_at_or_above(branch)
    if dissolved is not None:
        raise PermissionDenied(dissolved_message(dissolved))


def require_write_in_many(user, branches, *, manage: bool = False) -> None:
    """`require_write_in` for a batch's branches at once: the same refusals, and one query
    for the dissolved-branch check of them all, whatever the batch's size."""
    branches = list(branches)
    for branch in branches:
        if not in_scope(user, branch):
            raise PermissionDenied
    if manage:
        require_manage(user)
    else:
        require_write(user)
    today = timezone.localdate()
    for branch in branches:
        if branch.dissolved_on is not None and branch.dissolved_on <= today:
            raise PermissionDenied(dissolved_message(branch))
    prefixes = {
        branch.path[:end] for branch in branches for end in range(branch.steplen, len(branch.path), branch.steplen)
    }
    if not prefixes:
        return
    Branch = apps.get_model("associations", "Branch")
    found = Branch.objects.filter(path__in=prefixes, dissolved_on__lte=today).order_by("-depth").first()
    if found is not None:
        raise PermissionDenied(dissolved_message(found))


def get_visible_or_404(user, queryset, *, write: bool = False, **lookup):
    """Fetch one object the user may see (404 otherwise); with write=True also require a
    writing role, and that the object lies in the user's subtree today and not under a
    dissolved branch (403: a predecessor's history is seen, never changed)."""
    if not write:
        return get_object_or_404(queryset.visible_to(user), **lookup)
    obj = get_object_or_404(queryset.visible_to(user).with_writable(user), **lookup)
    require_write(user)
    if not obj.writable_by_user:
        # Seen but not writable: it lies under a dissolved branch (a predecessor's history).
        raise PermissionDenied(
            _("This belongs to a dissolved branch: it is kept as history and can no longer be changed.")
        )
    return obj


def _table(model_name: str) -> str:
    return connection.ops.quote_name(apps.get_model("associations", model_name)._meta.db_table)


def _history_parts(path: str) -> tuple[str, str]:
    """The recursive CTE `earlier` (the branches the subtree at `path` came from, through
    applied reorganisations, transitively; its one parameter is path + "%") and the SELECT
    of the branches under those of them outside the subtree (parameters `_select_params`).

    The SELECT finds a predecessor's descendants by a range of the path index (every
    descendant's path is the predecessor's followed by letters of 0-9A-Z, so it lies between
    the path and the path followed by Z's) rather than by `LIKE p.path || '%'` alone, which no
    index serves: that compared every branch with every branch (0.5 s for the city of the
    small synthetic Hanoi, quadratic in the tree). Predecessors inside the subtree add
    nothing, their descendants are in it: for the city, none is left."""
    branch, edge, reorganisation = _table("Branch"), _table("LineageEdge"), _table("Reorganisation")
    # A recursive CTE (the ORM has none); only the models' quoted table names are
    # formatted in, every value is a parameter.
    cte = f"""
        earlier(id) AS (
            SELECT e.predecessor_id FROM {edge} e
              JOIN {reorganisation} r ON r.id = e.reorganisation_id AND r.status = 'applied'
              JOIN {branch} s ON s.id = e.successor_id
             WHERE s.path LIKE %s
            UNION
            SELECT e.predecessor_id FROM {edge} e
              JOIN {reorganisation} r ON r.id = e.reorganisation_id AND r.status = 'applied'
              JOIN earlier ON e.successor_id = earlier.id
        )"""  # noqa: S608
    select = f"""
        SELECT b.id FROM earlier
          JOIN {branch} p ON p.id = earlier.id AND p.path NOT LIKE %s
          JOIN {branch} b ON b.path >= p.path AND b.path <= p.path || %s AND b.path LIKE p.path || '%%'"""  # noqa: S608
    return cte, select


# Above every path's continuation: treebeard's paths are made of 0-9A-Z, at most 255 long.
_PATH_END = "Z" * 255


def _select_params(path: str) -> list[str]:
    return [path + "%", _PATH_END]


def predecessor_subtrees_sql(path: str) -> RawSQL:
    """One uncorrelated subquery: the ids of the branches under every branch that became a
    branch of the subtree at `path` through applied reorganisations, transitively (the
    subtree's history). Empty, and cheap, while no reorganisation is applied."""
    cte, select = _history_parts(path)
    return RawSQL(f"WITH RECURSIVE {cte} {select}", [path + "%", *_select_params(path)])  # noqa: S611 — tables of models, values as parameters


def visible_branches_sql(path: str) -> RawSQL:
    """One uncorrelated subquery: the ids of the branches a user rooted at `path` sees —
    their subtree and its history (`predecessor_subtrees_sql`)."""
    cte, select = _history_parts(path)
    branch = _table("Branch")
    # The WITH comes first (SQLite takes no WITH inside a UNION's arm); UNION ALL: an IN
    # list needs no duplicates removed.
    sql = f"WITH RECURSIVE {cte} SELECT b.id FROM {branch} b WHERE b.path LIKE %s UNION ALL {select}"  # noqa: S608
    return RawSQL(sql, [path + "%", path + "%", *_select_params(path)])  # noqa: S611 — tables of models, values as parameters


def writable_branches_sql(path: str) -> RawSQL:
    """One uncorrelated subquery: the ids of the branches under `path` ("" for all) not
    dissolved on or before today and not below one that is."""
    branch = _table("Branch")
    sql = f"""
        SELECT b.id FROM {branch} b
         WHERE b.path LIKE %s
           AND NOT EXISTS (
               SELECT 1 FROM {branch} a
                WHERE a.dissolved_on <= %s AND b.path LIKE a.path || '%%'
           )
    """  # noqa: S608
    return RawSQL(sql, [path + "%", timezone.localdate()])  # noqa: S611 — a model's table, values as parameters


def _history_prefixes_sql(path: str) -> tuple[str, list]:
    """The paths of the branches the subtree at `path` came from through applied
    reorganisations (transitively) that lie outside it, as one statement: the CTE of
    `_history_parts`, its ids looked up by primary key, and only when some lineage edge starts
    outside the subtree (two ranges of the path index: for a city that is the whole tree,
    none, and the recursion is never run). Joined to the branch table instead, the planner
    hashes every branch; a lookup per row of the CTE, estimated at its recursive row count,
    costs enough to switch JIT compilation on (0.7 s for nothing)."""
    cte, _ = _history_parts(path)
    branch, edge = _table("Branch"), _table("LineageEdge")
    ids = "= ANY(ARRAY(SELECT id FROM earlier))" if connection.vendor == "postgresql" else "IN (SELECT id FROM earlier)"
    sql = f"""WITH RECURSIVE {cte}
        SELECT DISTINCT p.path FROM {branch} p WHERE p.id {ids} AND p.path NOT LIKE %s
           AND EXISTS (
               SELECT 1 FROM {branch} o JOIN {edge} oe ON oe.predecessor_id = o.id
                WHERE o.path < %s OR o.path > %s
           )"""  # noqa: S608
    return sql, [path + "%", path + "%", path, path + _PATH_END]


def visible_prefixes(user) -> list[str] | None:
    """The path prefixes of every branch the user sees: the root of their subtree, then the
    outermost branches of its history outside it (the predecessors' subtrees, as
    `visible_branches_sql` finds them). None for nothing, [""] for everything. One query,
    kept on the user object for the request (none for a superuser or a user without a
    profile)."""
    path = subtree_path(user)
    if path is None:
        return None
    if path == _EVERYTHING:
        return [_EVERYTHING]
    cached = getattr(user, "_visible_prefixes", None)
    if cached is not None and cached[0] == path:
        return list(cached[1])
    sql, params = _history_prefixes_sql(path)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = sorted(row[0] for row in cursor.fetchall())
    prefixes = [path]
    for candidate in found:  # sorted: a branch's ancestors come before it
        if not any(candidate.startswith(kept) for kept in prefixes):
            prefixes.append(candidate)
    user._visible_prefixes = (path, tuple(prefixes))
    return prefixes


class SubtreeQuerySetMixin:
    """`visible_to(user)` and `in_subtree(branch)`: rows whose branch lies in a subtree.

    `branch_path_lookup` names the path of the branch that owns a row, e.g. "branch__path".
    Superusers see everything; a user without a staff profile sees nothing; a user sees
    also the history of their subtree (the branches it came from, read-only). A model
    whose rows belong to a branch through either of two ends (a transfer between two
    funds) overrides `_branches_q`.
    """

    branch_path_lookup = "branch__path"

    def visible_to(self, user):
        path = subtree_path(user)
        if path is None:
            return self.none()
        if path == _EVERYTHING:
            return self.all()
        if self._owned_by_path():
            return self.filter(Q(path__startswith=path) | Q(pk__in=predecessor_subtrees_sql(path)))
        return self.filter(self._branches_q(visible_branches_sql(path)))

    def visible_by_prefixes(self, user):
        """The rows of `visible_to(user)`, filtered by plain path prefixes on the owning
        branch (`branch.path LIKE 'root%' OR branch.path LIKE 'predecessor%' …`, the
        prefixes of `visible_prefixes`, one query per request) instead of one subquery with
        the history's recursive CTE. The planner estimates a prefix from the path index's
        statistics, so it drives a big subtree's list from the name index and a small one's
        from the branch foreign key; with the subquery it chose a nested loop that compared
        every member walked with every visible branch (0.2 s for a district of the full
        city). For lists that join the branch anyway (`select_related`)."""
        prefixes = visible_prefixes(user)
        if prefixes is None:
            return self.none()
        if prefixes == [_EVERYTHING]:
            return self.all()
        condition = Q()
        for prefix in prefixes:
            condition |= Q(**{f"{self.branch_path_lookup}__startswith": prefix})
        return self.filter(condition)

    def with_writable(self, user):
        """Annotate `writable_by_user`: whether the row's branch is in the user's subtree
        today and not dissolved (nor below a dissolved branch)."""
        path = subtree_path(user)
        if path is None:
            return self.annotate(writable_by_user=Value(False, output_field=BooleanField()))
        branches = writable_branches_sql(path)
        condition = Q(pk__in=branches) if self._owned_by_path() else self._branches_q(branches)
        return self.annotate(
            writable_by_user=Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
        )

    def in_subtree(self, branch):
        return self._subtree_filter(branch.path)

    def _subtree_filter(self, path: str):
        return self.filter(self._subtree_q(path))

    def _owned_by_path(self) -> bool:
        lookup = self.branch_path_lookup
        return lookup == "path" or not lookup.endswith("__path")

    def _subtree_q(self, path: str):
        """Rows owned by a branch whose path starts with `path`, as an uncorrelated semi-join
        `<fk> IN (SELECT id FROM branch WHERE path LIKE 'path%')` rather than a join and a
        LIKE on every row: the planner can then drive a list from the ICU name index (ORDER
        BY … LIMIT) or from the branch foreign-key index, whatever the subtree's size."""
        if self._owned_by_path():
            return Q(**{f"{self.branch_path_lookup}__startswith": path})
        branches = apps.get_model("associations", "Branch").objects.order_by().filter(path__startswith=path)
        return self._branches_q(branches.values("id"))

    def _branches_q(self, branches):
        """Rows owned by a branch among `branches` (a subquery of branch ids)."""
        return Q(**{f"{self.branch_path_lookup.removesuffix('__path')}__in": branches})
