"""The one access rule: a user sees and changes only the subtree of their own branch.

Every view fetches objects through `get_visible_or_404`: an object outside the user's
subtree answers 404 (its existence is not revealed); a read-only role asking to change one
answers 403. Lists use the same `visible_to(user)` queryset method.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404


def staff_profile(user):
    from associations.models import StaffProfile

    return StaffProfile.for_user(user)


def user_root_branch(user):
    """The branch whose subtree the user sees; None for a superuser (everything)."""
    if user.is_superuser:
        return None
    profile = staff_profile(user)
    return profile.branch if profile else None


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


def get_visible_or_404(user, queryset, *, write: bool = False, **lookup):
    """Fetch one object the user may see (404 otherwise); with write=True also require a writing role (403)."""
    obj = get_object_or_404(queryset.visible_to(user), **lookup)
    if write:
        require_write(user)
    return obj


class VisibleQuerysetMixin(LoginRequiredMixin):
    """Generic class views: the queryset is the model's rows visible to the user."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


class WriteRequiredMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_write(request.user)
        return super().dispatch(request, *args, **kwargs)
