"""`{% load changes %}`: reading the changes of an audit entry.

An entry's changes map a field to its value (a record created, voided, imported) or to a
[before, after] pair (a record changed, moved, ended, erased).
"""

from django import template

register = template.Library()


@register.filter
def is_before_after(value) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2
