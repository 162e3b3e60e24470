"""Money is whole đồng, an int. These functions only ever format it for people."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

BILLION = 1_000_000_000
MILLION = 1_000_000
THOUSAND = 1_000


def group_digits(value: int, separator: str = ".") -> str:
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", separator)


def format_money(value: int | None) -> str:
    """67000000000 → '67.000.000.000 ₫' (Vietnamese grouping whatever the interface language)."""
    if value is None or value == "":
        return ""
    return f"{group_digits(int(value))} ₫"


def _one_decimal(amount: int, unit: int) -> str:
    scaled = (Decimal(amount) / Decimal(unit)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{scaled:f}"
    if text.endswith(".0"):
        text = text[:-2]
    whole, _dot, fraction = text.partition(".")
    whole = group_digits(int(whole))
    return f"{whole},{fraction}" if fraction else whole


def format_money_short(value: int | None) -> str:
    """Summaries: 67 tỷ đồng, 86,4 tỷ đồng, 350 triệu đồng, 12 nghìn đồng, 500 đồng."""
    if value is None or value == "":
        return ""
    value = int(value)
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if magnitude >= BILLION:
        return _("%(amount)s billion đồng") % {"amount": sign + _one_decimal(magnitude, BILLION)}
    if magnitude >= MILLION:
        return _("%(amount)s million đồng") % {"amount": sign + _one_decimal(magnitude, MILLION)}
    if magnitude >= THOUSAND:
        return _("%(amount)s thousand đồng") % {"amount": sign + _one_decimal(magnitude, THOUSAND)}
    return _("%(amount)s đồng") % {"amount": group_digits(value)}
