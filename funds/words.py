"""Amounts in Vietnamese words, as receipts write them: 1500000 → "Một triệu năm trăm nghìn đồng"."""

from __future__ import annotations

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
SCALES = ["", "nghìn", "triệu"]
BILLION = 1_000_000_000


def _three_digits(number: int, *, full: bool) -> list[str]:
    """Read 0–999; `full` when a higher group precedes, so 5 reads "không trăm linh năm"."""
    hundreds, tens, units = number // 100, number // 10 % 10, number % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units:
        if units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        else:
            words.append(DIGITS[units])
    return words


def _below_billion(number: int, *, full: bool) -> list[str]:
    groups = [number // 1_000_000, number // 1_000 % 1_000, number % 1_000]
    words: list[str] = []
    for index, group in enumerate(groups):
        if not group:
            continue
        words += _three_digits(group, full=full or bool(words))
        scale = SCALES[2 - index]
        if scale:
            words.append(scale)
    return words


def _words(number: int, *, full: bool = False) -> list[str]:
    if number >= BILLION:
        words = [*_words(number // BILLION, full=full), "tỷ"]
        rest = number % BILLION
        return words + (_below_billion(rest, full=True) if rest else [])
    return _below_billion(number, full=full)


def amount_in_words(amount: int) -> str:
    amount = int(amount)
    if amount == 0:
        text = "không"
    else:
        text = " ".join(_words(abs(amount)))
        if amount < 0:
            text = "âm " + text
    return text[0].upper() + text[1:] + " đồng"
