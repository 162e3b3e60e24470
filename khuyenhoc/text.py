"""Text helpers shared by every app."""

import unicodedata
from functools import lru_cache

# đ/Đ are letters of their own, not a d with a combining mark, so NFD leaves them alone.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def search_key(text: str | None) -> str:
    """'Nguyễn Văn An' (composed or decomposed) → 'nguyen van an': what searches compare."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def clean_text(text: str | None) -> str:
    """NFC-normalise and collapse whitespace in what a person typed."""
    if text is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


# Vietnamese alphabetical order, as ICU's "vi" collation (PostgreSQL's "vi-VN-x-icu") sorts:
# 1. letters of the Vietnamese alphabet a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y
#    (f j w z in their Latin places), after spaces, punctuation and digits;
# 2. then tones, letter by letter: none, grave, hook, tilde, acute, dot below ("Pham" < "Phàm"
#    < "Phảm" < "Phãm" < "Phám" < "Phạm", all before "Phan": base letters are compared first);
# 3. then case, small before capital.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_PUNCTUATION = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _primary(char: str) -> int:
    if char in _ALPHABET:
        return 200 + _ALPHABET.index(char)
    if char.isspace():
        return 1
    if char in _PUNCTUATION:
        return 10 + _PUNCTUATION.index(char)
    if char.isdigit():
        return 100 + int(char) if char in "0123456789" else 150
    return 1000 + ord(char)


def vietnamese_sort_key(text: str) -> tuple:
    """Sort key for Python-side sorting in Vietnamese order, the order of ICU's vi collation
    (PostgreSQL) and of the "vi" collation registered on SQLite (khuyenhoc.db)."""
    letters: list[list] = []  # [primary weight, letter, tone, is capital]
    for char in unicodedata.normalize("NFD", text or ""):
        if char in _LETTER_MARKS and letters:
            last = letters[-1]
            composed = unicodedata.normalize("NFC", last[1] + char)
            if composed in _ALPHABET:
                last[0], last[1] = _primary(composed), composed
        elif char in _TONES:
            if letters:
                letters[-1][2] = _TONES[char]
        elif unicodedata.combining(char):
            continue  # a mark foreign to Vietnamese: ignored
        else:
            lower = char.lower()
            letters.append([_primary(lower), lower, 0, char != lower])
    return (
        tuple(letter[0] for letter in letters),
        tuple(letter[2] for letter in letters),
        tuple(letter[3] for letter in letters),
    )


# `vietnamese_sort_string`: the key above as one string whose plain (binary, code point) order is
# the key's order. Weights below 1000 (spaces, punctuation, digits, the alphabet) become one ASCII
# character each, in order; any other character one character above them (or three, lead
# U+E000, beyond U+D77F, so no surrogate is ever made); the three levels are joined by "!",
# below every weight, so a name that is the start of another sorts first.
_SMALL_WEIGHTS = sorted(
    {1, *range(10, 10 + len(_PUNCTUATION)), *range(100, 110), 150, *range(200, 200 + len(_ALPHABET))}
)
_SMALL_CHARS = {weight: chr(0x23 + rank) for rank, weight in enumerate(_SMALL_WEIGHTS)}
_LEVEL_SEPARATOR = "!"


def _weight_char(weight: int) -> str:
    if weight in _SMALL_CHARS:
        return _SMALL_CHARS[weight]
    code = weight - 1000  # the character's own code point (`_primary`)
    if code < 0xD800 - 0x80:
        return chr(0x80 + code)
    return "\ue000" + chr(0x100 + (code >> 10)) + chr(0x100 + (code & 0x3FF))


def _sort_string_of_key(text: str) -> str:
    """The reference: `vietnamese_sort_key(text)` joined into its string, letter by letter."""
    primary, tones, capitals = vietnamese_sort_key(text)
    return _LEVEL_SEPARATOR.join(
        (
            "".join(_weight_char(weight) for weight in primary),
            "".join(str(tone) for tone in tones),
            "".join("1" if capital else "0" for capital in capitals),
        )
    )


@lru_cache(maxsize=4096)
def _char_pieces(char: str) -> tuple[str, str, str] | None:
    """What one character adds to each of the three levels of the sort string, or None when its
    decomposition starts with a combining mark (a mark typed apart changes the letter before it,
    and NFD may reorder it with that letter's marks: such a text takes the reference path).
    A character whose decomposition starts with a base character decomposes on its own exactly
    as within the text, so the text's string is its characters' pieces joined level by level."""
    if unicodedata.combining(unicodedata.normalize("NFD", char)[0]):
        return None
    primary, tones, capitals = _sort_string_of_key(char).split(_LEVEL_SEPARATOR)
    return primary, tones, capitals


@lru_cache(maxsize=65536)  # names repeat (the full city: 6 010 distinct among 1.09 M members)
def vietnamese_sort_string(text: str | None) -> str:
    """`vietnamese_sort_key(text)` as a string that sorts by plain comparison (Python's `<`,
    SQLite's BINARY collation, PostgreSQL's "C"): what Member.name_sort stores, so that the
    embedded SQLite orders a list by an index instead of calling the "vi" collation per comparison.
    Built from each character's cached pieces (a few µs a name); the same string as
    `_sort_string_of_key`, which it falls back to for text with marks typed apart."""
    text = text or ""
    primary, tones, capitals = [], [], []
    for char in text:
        pieces = _char_pieces(char)
        if pieces is None:
            return _sort_string_of_key(text)
        primary.append(pieces[0])
        tones.append(pieces[1])
        capitals.append(pieces[2])
    return _LEVEL_SEPARATOR.join(("".join(primary), "".join(tones), "".join(capitals)))
