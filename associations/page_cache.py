"""The registry's side of the page cache (`khuyenhoc/page_cache.py`): whose page a cached page
is, and the decorator the list pages use.

A cached page is never shared between two accounts: its key holds the user, and with them what
decides what they may see (their branch and its path, their role, whether they are an
administrator or staff), so a change of role or branch is a new key too. The data it shows is
kept fresh by the families' stamps, bumped by every write (see `data_bumps_connect`).
"""

from __future__ import annotations

import functools

from django.db.models.signals import post_delete, post_save

from associations.access import staff_profile
from khuyenhoc.page_cache import FAMILIES, bump_receiver, cached_response


def page_scope(user) -> tuple:
    """What a page's content depends on about who asks (one query, shared with the layout's)."""
    profile = staff_profile(user)
    branch = (profile.branch_id, profile.branch.path, profile.role) if profile else None
    # The name is the header's; the flags decide the menus and what may be seen.
    return (user.pk, user.get_username(), user.get_full_name(), user.is_superuser, user.is_staff, branch)


def cached_page(*families: str):
    """Decorate a GET list page whose content depends only on the stored data of `families`
    (default: every family), who asks, the language, the path and query, and today."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.GET.get("format"):  # an export (it may start a job): never from the cache
                return view(request, *args, **kwargs)
            return cached_response(
                request,
                key_parts=(view.__module__, view.__qualname__, page_scope(request.user)),
                render=lambda: view(request, *args, **kwargs),
                families=families or FAMILIES,
            )

        return wrapped

    return decorate


def data_bumps_connect(family: str, models, project_signals: dict | None = None) -> None:
    """Bump `family`'s stamp on every save or delete of `models` and on the project's signals
    (`{name: signal}`, from `khuyenhoc/signals.py`). Called by the apps' `AppConfig.ready()`."""
    receiver = bump_receiver(family)
    for model in models:
        uid = f"page_cache.{family}.{model._meta.label}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid + ".save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid + ".delete")
    for name, signal in (project_signals or {}).items():
        signal.connect(receiver, weak=False, dispatch_uid=f"page_cache.{family}.{name}")
