from django import template

from khuyenhoc.money import format_money, format_money_short, group_digits

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
