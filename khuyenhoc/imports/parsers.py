"""Cell parsers of the import engine.

Each takes the raw value openpyxl gives (str, int, float, datetime, bool or None) and
returns the Python value, or raises CellError with a message for a person. Empty cells
arrive as None.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

from django.utils.translation import gettext as _

from khuyenhoc.text import clean_text, search_key

# What Excel shows in a cell whose formula failed.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)


class CellError(ValueError):
    """One cell's value cannot be read; the message says why, for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _refuse_excel_error(value: Any) -> None:
    if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
        raise CellError(
            _("The cell shows the Excel error %(error)s: correct the formula or type the value.")
            % {"error": value.strip()}
        )


def parse_text(value: Any, *, max_length: int = 255) -> str:
    _refuse_excel_error(value)
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        raise CellError(_("Expected text, found a date."))
    text = clean_text(str(value))
    if len(text) > max_length:
        raise CellError(_("Too long: at most %(limit)d characters.") % {"limit": max_length})
    return text


def parse_digits(value: Any, *, length: int) -> str:
    """A code made of digits (citizen ID): typed as text, or as a number that lost its leading zeros."""
    _refuse_excel_error(value)
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        raise CellError(_("Expected digits."))
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("Expected digits only."))
        value = int(value)
    if isinstance(value, int):
        # Excel drops the leading zeros of a number: every citizen ID starts with 0 (the
        # province codes are 001–096), so a number of fewer digits is padded back.
        if value < 0 or len(str(value)) > length:
            raise CellError(_("Expected %(length)d digits.") % {"length": length})
        return str(value).zfill(length)
    text = "".join(str(value).split()).replace(".", "").replace("-", "")
    if not text.isdigit():
        raise CellError(_("Expected digits only."))
    return text


def parse_phone(value: Any) -> str:
    _refuse_excel_error(value)
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        # A mobile number typed as a number loses its leading 0 (9 digits left).
        text = str(value)
        return "0" + text if len(text) == 9 else text
    text = clean_text(str(value))
    if not re.fullmatch(r"\+?[0-9 .()-]{6,20}", text):
        raise CellError(_("Not a phone number."))
    return text


_DATE_TEXT = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
MIN_YEAR = 1900
MAX_YEAR = 2100


def parse_date(value: Any) -> datetime.date | None:
    """dd/mm/yyyy text (also d/m/yyyy, with - or .), ISO yyyy-mm-dd, or a real Excel date cell."""
    _refuse_excel_error(value)
    if is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        if value.time() != datetime.time(0, 0):
            raise CellError(_("Expected a date without a time of day."))
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # A bare number in a date column is most likely a date whose cell lost its date
        # format; reading it as a serial day count could silently give a wrong date.
        raise CellError(_("Expected a date such as 25/03/2018, found a number."))
    else:
        text = clean_text(str(value))
        match = _DATE_TEXT.fullmatch(text)
        try:
            if match:
                day = datetime.date(int(match[3]), int(match[2]), int(match[1]))
            elif iso := _ISO_DATE.fullmatch(text):
                day = datetime.date(int(iso[1]), int(iso[2]), int(iso[3]))
            else:
                raise CellError(_("Expected a date written dd/mm/yyyy, e.g. 25/03/2018."))
        except ValueError as error:
            raise CellError(_("This date does not exist.")) from error
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise CellError(_("The year must lie between %(min)d and %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR})
    return day


_GROUPED = (
    re.compile(r"\d+"),
    re.compile(r"\d{1,3}(?:\.\d{3})+"),  # 1.500.000 (Vietnamese)
    re.compile(r"\d{1,3}(?:,\d{3})+"),  # 1,500,000
    re.compile(r"\d{1,3}(?: \d{3})+"),  # 1 500 000
)
_CURRENCY_SUFFIX = re.compile(r"\s*(?:đồng|dong|đ|₫|vnđ|vnd)\.?$", re.IGNORECASE)
MAX_AMOUNT = 10**15  # a thousand trillion đồng: far above any real donation or fund


def _whole_number(value: Any, *, strip_currency: bool) -> int:
    """A whole number from a number cell or from digits grouped by '.', ',' or spaces.

    A grouping must be exactly three digits between separators, so "1.5" or "1,50" (which
    might be a decimal) is refused rather than read as 15 or 150.
    """
    _refuse_excel_error(value)
    if isinstance(value, bool | datetime.date | datetime.datetime):
        raise CellError(_("Expected a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("Expected a whole number, without decimals."))
        return int(value)
    text = str(value).replace("\u00a0", " ").strip()
    if strip_currency:
        text = _CURRENCY_SUFFIX.sub("", text).strip()
    negative = text.startswith("-")
    if negative:
        text = text[1:].strip()
    if not any(pattern.fullmatch(text) for pattern in _GROUPED):
        raise CellError(_("Expected a whole number such as 1500000, 1.500.000 or 1,500,000 (no decimals)."))
    number = int(re.sub(r"\D", "", text))
    return -number if negative else number


def parse_amount(value: Any, *, allow_zero: bool = False) -> int | None:
    """An amount of money in whole đồng: 1500000, 1.500.000, 1,500,000 or "1.500.000 đ"."""
    if is_blank(value):
        return None
    amount = _whole_number(value, strip_currency=True)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise CellError(_("The amount must be greater than zero."))
    if amount > MAX_AMOUNT:
        raise CellError(_("The amount is implausibly large."))
    return amount


def parse_integer(value: Any, *, minimum: int = 0, maximum: int = 10**9) -> int | None:
    if is_blank(value):
        return None
    number = _whole_number(value, strip_currency=False)
    if not minimum <= number <= maximum:
        raise CellError(_("Expected a whole number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum})
    return number


def parse_choice(value: Any, choices: dict[str, str]) -> str:
    """A value typed as one of the labels (compared without accents or case); "" when blank."""
    _refuse_excel_error(value)
    if is_blank(value):
        return ""
    stored = _choice_keys(tuple(choices.items())).get(_typed_key(str(value)))
    if stored is None:
        raise CellError(_("Expected one of: %(choices)s.") % {"choices": ", ".join(choices)})
    return stored


@functools.lru_cache(maxsize=4096)
def _typed_key(text: str) -> str:
    """A typed label's search key: the same few labels fill a whole column."""
    return search_key(text)


@functools.lru_cache(maxsize=64)
def _choice_keys(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {search_key(label): stored for label, stored in items}
