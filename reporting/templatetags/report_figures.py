from django import template

from khuyenhoc.money import group_digits

register = template.Library()


@register.filter
def figure(value) -> str:
    """A whole number with '.' thousands separators (1.250), whatever the interface language."""
    if isinstance(value, int) and not isinstance(value, bool):
        return group_digits(value)
    return "" if value is None else str(value)


@register.filter
def signed_figure(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return ("+" if value > 0 else "") + group_digits(value)
    return ""
