from django.conf import settings

import khuyenhoc
from associations.access import can_manage, can_write, staff_profile


def manages_city(user) -> bool:
    """Whether the user may manage the whole city (an administrator, or a manager of the tree's
    root): the reorganisation pages are theirs."""
    if user.is_superuser:
        return True
    profile = staff_profile(user)
    return bool(profile and profile.can_manage and profile.branch.depth == 1)


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
    }
