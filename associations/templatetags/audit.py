"""`{% load audit %}`: audit entries in plain words.

{% readable_entries history user as entries %} → the entries, each with `lines` and `record_url`
(see associations.audit_display); related records are resolved once for the whole list.
"""

from django import template

from associations.audit_display import entries_readable

register = template.Library()


@register.simple_tag
def readable_entries(entries, user):
    return entries_readable(entries, user=user)
