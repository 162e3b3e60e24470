"""Text helpers shared by every app."""

import unicodedata

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


# Vietnamese alphabetical order: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y,
# then tones (none, grave, hook, tilde, acute, dot below) as a second level.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vietnamese_sort_key(text: str) -> tuple:
    """Sort key for Python-side sorting in Vietnamese order (the database uses ICU's vi collation)."""
    letters: list[tuple[int, str]] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", (text or "").lower()):
        if char in _LETTER_MARKS and letters:
            index, base = letters[-1]
            composed = unicodedata.normalize("NFC", base + char)
            letters[-1] = (_ALPHABET.index(composed) if composed in _ALPHABET else index, composed)
        elif char in _TONES:
            if tones:
                tones[-1] = _TONES[char]
        else:
            letters.append((_ALPHABET.index(char) if char in _ALPHABET else 100 + ord(char), char))
            tones.append(0)
    return tuple(index for index, _char in letters), tuple(tones)
