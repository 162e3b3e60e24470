"""Money is whole đồng, an int. These functions only ever format it for people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


# --- A column of amounts in one unit -----------------------------------------------------------
# A table shows every amount of a column in the same unit, named once in the header
# ("Tổng (tỷ đồng)": 1,10 · 0,56 · 0,03), never "1,1 tỷ đồng" above "561 triệu đồng".
@dataclass(frozen=True)
class MoneyUnit:
    """The unit of one column: its size in đồng and the decimals every cell shows."""

    size: int
    decimals: int

    @property
    def name(self) -> str:
        names = {BILLION: _("billion đồng"), MILLION: _("million đồng"), THOUSAND: _("thousand đồng")}
        return names.get(self.size, _("đồng"))

    def format(self, value: int | None) -> str:
        """The amount in this unit with a decimal comma and '.' grouping: 561234000 → '561,2'."""
        if value is None or value == "":
            return ""
        value = int(value)
        if self.size == 1:
            return group_digits(value)
        step = Decimal(1).scaleb(-self.decimals)
        scaled = (Decimal(abs(value)) / Decimal(self.size)).quantize(step, rounding=ROUND_HALF_UP)
        if value and not scaled:  # not zero, but below the column's last decimal
            return ("> -" if value < 0 else "< ") + _decimal_comma(step)
        return ("-" if value < 0 and scaled else "") + _decimal_comma(scaled)


def _decimal_comma(number: Decimal) -> str:
    whole, _dot, fraction = f"{number:f}".partition(".")
    whole = group_digits(int(whole))
    return f"{whole},{fraction}" if fraction else whole


def money_unit(values: Iterable[int | None]) -> MoneyUnit:
    """The unit that suits the largest amount of a column: tỷ from a billion, triệu from a
    million, nghìn from a thousand, else đồng; with the decimals that keep its largest amount
    to about three significant digits (1,10 tỷ · 56,1 triệu · 561 triệu)."""
    largest = max((abs(int(v)) for v in values if v not in (None, "")), default=0)
    for size in (BILLION, MILLION, THOUSAND):
        if largest >= size:
            scaled = largest / size
            return MoneyUnit(size=size, decimals=2 if scaled < 10 else 1 if scaled < 100 else 0)
    return MoneyUnit(size=1, decimals=0)
