from django import template

from khuyenhoc.money import MoneyUnit, format_money, format_money_short, group_digits, money_unit

register = template.Library()


@register.filter
def money(value):
    """{{ amount|money }} → 67.000.000.000 ₫"""
    return format_money(value)


@register.filter
def money_short(value):
    """{{ amount|money_short }} → 67 tỷ đồng, 86,4 tỷ đồng, 350 triệu đồng"""
    return format_money_short(value)


@register.filter
def grouped(value):
    """{{ count|grouped }} → 1.900.000 (a whole number with '.' thousands separators)."""
    if value is None or value == "":
        return ""
    return group_digits(int(value))


# A table column of amounts in one unit (khuyenhoc.money.MoneyUnit): the header names the
# unit once, every cell is a number in it.
@register.filter
def column_unit(values) -> MoneyUnit:
    """{% with unit=amounts|column_unit %} → the unit that suits the column's largest amount."""
    return money_unit(values)


@register.filter
def in_unit(value, unit: MoneyUnit) -> str:
    """{{ amount|in_unit:unit }} → 561,2 (in the column's unit, with a decimal comma)."""
    return unit.format(value)
