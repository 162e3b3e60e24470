import functools
from types import SimpleNamespace

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString

import khuyenhoc
from associations.access import can_manage, can_write, staff_profile


def manages_city(user) -> bool:
    """Whether the user may manage the whole city (an administrator, or a manager of the tree's
    root): the reorganisation pages are theirs."""
    if user.is_superuser:
        return True
    profile = staff_profile(user)
    return bool(profile and profile.can_manage and profile.branch.depth == 1)


@functools.lru_cache(maxsize=1024)
def _navigation(language: str, flags: tuple[bool, bool, bool, bool], namespace: str, url_name: str) -> SafeString:
    """The menus rendered once per language, permissions and page (they show no data)."""
    can_write, can_manage, manages_city, is_staff = flags
    with translation.override(language):
        return SafeString(
            render_to_string(
                "partials/nav_sections.html",
                {
                    "user_can_write": can_write,
                    "user_can_manage": can_manage,
                    "user_manages_city": manages_city,
                    "user": SimpleNamespace(is_staff=is_staff),
                    "request": SimpleNamespace(resolver_match=SimpleNamespace(namespace=namespace, url_name=url_name)),
                },
            )
        )


def navigation(request, user) -> SafeString:
    """The header's menus for this user and page: `partials/nav_sections.html`, rendered once
    per (language, permissions, URL name) in each process (re-rendered every time with DEBUG on,
    where the template may change under a running server)."""
    match = request.resolver_match
    key = (
        translation.get_language(),
        (can_write(user), can_manage(user), manages_city(user), user.is_staff),
        match.namespace if match else "",
        match.url_name if match else "",
    )
    if settings.DEBUG:
        return _navigation.__wrapped__(*key)
    return _navigation(*key)


def portal(request):
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    return {
        "portal_version": khuyenhoc.__version__,
        "demo_banner": settings.DEMO_BANNER,
        "staff_profile": staff_profile(user) if authenticated else None,
        "user_can_write": can_write(user) if authenticated else False,
        "user_can_manage": can_manage(user) if authenticated else False,
        "user_manages_city": manages_city(user) if authenticated else False,
        "navigation": SimpleLazyObject(lambda: navigation(request, user)) if authenticated else "",
    }
