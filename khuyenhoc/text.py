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
