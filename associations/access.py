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

The models are reached through the app registry, not imported: the registry's models use
the queryset mixin defined here.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404


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


def require_write_in(user, branch, *, manage: bool = False) -> None:
    """The write-side rule, used by every service: refuse (403) a change under a branch
    outside the user's subtree, or by a role that may not write (or, with manage=True,
    may not manage accounts)."""
    if not in_scope(user, branch):
        raise PermissionDenied
    if manage:
        require_manage(user)
    else:
        require_write(user)


def get_visible_or_404(user, queryset, *, write: bool = False, **lookup):
    """Fetch one object the user may see (404 otherwise); with write=True also require a writing role (403)."""
    obj = get_object_or_404(queryset.visible_to(user), **lookup)
    if write:
        require_write(user)
    return obj


class SubtreeQuerySetMixin:
    """`visible_to(user)` and `in_subtree(branch)`: rows whose branch lies in a subtree.

    `branch_path_lookup` names the path of the branch that owns a row, e.g. "branch__path".
    Superusers see everything; a user without a staff profile sees nothing. A model whose
    rows belong to a branch through either of two ends (a transfer between two funds)
    overrides `_subtree_q`.
    """

    branch_path_lookup = "branch__path"

    def visible_to(self, user):
        path = subtree_path(user)
        if path is None:
            return self.none()
        if path == _EVERYTHING:
            return self.all()
        return self._subtree_filter(path)

    def in_subtree(self, branch):
        return self._subtree_filter(branch.path)

    def _subtree_filter(self, path: str):
        return self.filter(self._subtree_q(path))

    def _subtree_q(self, path: str):
        """Rows owned by a branch whose path starts with `path`, as an uncorrelated semi-join
        `<fk> IN (SELECT id FROM branch WHERE path LIKE 'path%')` rather than a join and a
        LIKE on every row: the planner can then drive a list from the ICU name index (ORDER
        BY … LIMIT) or from the branch foreign-key index, whatever the subtree's size."""
        lookup = self.branch_path_lookup
        if lookup == "path" or not lookup.endswith("__path"):
            return Q(**{f"{lookup}__startswith": path})
        branches = apps.get_model("associations", "Branch").objects.order_by().filter(path__startswith=path)
        return Q(**{f"{lookup.removesuffix('__path')}__in": branches.values("id")})
