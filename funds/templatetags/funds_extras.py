from django import template

from khuyenhoc.money import format_money, group_digits

register = template.Library()

MONEY_KEYS = {"amount", "balance"}


@register.filter
def split(value: str, separator: str = ","):
    """{% for key in "amount,donations"|split %} in report tables."""
    return [part for part in value.split(separator) if part]


@register.filter
def figure(figures: dict, key: str) -> str:
    """A report figure: money keys as 1.500.000 ₫, counts grouped as 1.234."""
    value = figures.get(key) or 0
    return format_money(value) if key in MONEY_KEYS else group_digits(int(value))
