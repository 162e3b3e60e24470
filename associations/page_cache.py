"""The registry's side of the page cache (`khuyenhoc/page_cache.py`): whose page a cached page
is, and the decorator the list pages use.

A cached page is never shared between two accounts: its key holds the user, and with them what
decides what they may see (their branch and its path, their role, whether they are an
administrator or staff), so a change of role or branch is a new key too. The data it shows is
kept fresh by the families' stamps, bumped by every write to their tables
(`khuyenhoc.page_cache.tables_register`, called by each app's `AppConfig.ready()`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest

from associations.access import staff_profile
from khuyenhoc.page_cache import cached_response


def page_scope(user) -> tuple:
    """What a page's content depends on about who asks (one query, shared with the layout's)."""
    profile = staff_profile(user)
    branch = (profile.branch_id, profile.branch.path, profile.role) if profile else None
    # The name is the header's; the flags decide the menus and what may be seen.
    return (user.pk, user.get_username(), user.get_full_name(), user.is_superuser, user.is_staff, branch)


def cached_page(*families: str, bypass: Callable[[HttpRequest], bool] | None = None):
    """Decorate a GET page whose content depends only on the stored data of `families`, who
    asks, the language, the path and query, and today. An export (`?format=…`) and a request
    for which `bypass(request)` is true are always rendered."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.GET.get("format") or (bypass is not None and bypass(request)):
                return view(request, *args, **kwargs)
            return cached_response(
                request,
                key_parts=(view.__module__, view.__qualname__, args, kwargs, page_scope(request.user)),
                render=lambda: view(request, *args, **kwargs),
                families=families,
            )

        return wrapped

    return decorate
