"""`{% load privacy %}`: personal data shown in full or masked according to the viewer's role.

{{ member.citizen_id|citizen_id_for:user }}       → 001085012345 or ••••••••2345
{{ member.date_of_birth|birth_date_for:user }}    → 25/03/1985 or ••/••/1985
"""

from django import template
from django.template.defaultfilters import date as date_filter

from associations import privacy

register = template.Library()


@register.filter
def mask_citizen_id(value) -> str:
    return privacy.mask_citizen_id(value)


@register.filter
def mask_date(value) -> str:
    return privacy.mask_date(value)


@register.filter
def citizen_id_for(value, user) -> str:
    return privacy.citizen_id_for(user, value)


@register.filter
def birth_date_for(value, user) -> str:
    if not value:
        return ""
    if privacy.sees_personal_data(user):
        return date_filter(value, "d/m/Y")
    return privacy.mask_date(value)


@register.simple_tag
def masked_value(field, value, user):
    """{% masked_value field value user %}: an audit entry's value, masked for roles that may not see it."""
    return privacy.mask_audit_value(field, value, user=user)
