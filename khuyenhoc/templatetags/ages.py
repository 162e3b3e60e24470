from django import template
from django.utils import timezone
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def age(moment) -> str:
    """How long ago, in words: "5 minutes", "3 hours", "2 days" (Django's own vi catalogue lacks these)."""
    if not moment:
        return ""
    seconds = max(0, int((timezone.now() - moment).total_seconds()))
    if seconds < 3600:
        minutes = seconds // 60
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    if seconds < 2 * 86400:
        hours = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days = seconds // 86400
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
