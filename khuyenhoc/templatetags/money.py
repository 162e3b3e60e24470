from django import template

from khuyenhoc.money import format_money, format_money_short

register = template.Library()


@register.filter
def money(value):
    """{{ amount|money }} → 67.000.000.000 ₫"""
    return format_money(value)


@register.filter
def money_short(value):
    """{{ amount|money_short }} → 67 tỷ đồng, 86,4 tỷ đồng, 350 triệu đồng"""
    return format_money_short(value)
