"""Search-as-you-type: what the pickers' endpoints share.

A picker (static/js/picker.js, on a <select> or an id input that carries `data-picker`)
asks its endpoint `?q=<typed text>` and shows the answer's results. The endpoints live in the
apps (each scoped to the user's subtree); this module gives them the shared parts:

- `SearchKey(field)`: the field's text lower-cased and without Vietnamese diacritics, in
  SQL, so that "phuc xa" finds "Phường Phúc Xá" where the model keeps no search column
  (PostgreSQL: TRANSLATE; the embedded SQLite: the same Python function as
  `khuyenhoc.text.search_key`, registered on the connection);
- `words(text)`: the typed words, as search keys (at most MAX_WORDS);
- `picker_response(results, more)`: the JSON every picker reads.
"""

from __future__ import annotations

import unicodedata

from django.db.models import CharField, Func
from django.http import JsonResponse

from khuyenhoc.text import search_key

LIMIT = 20  # results per answer
MAX_WORDS = 5
MAX_QUERY = 100  # characters of the typed text that are read


def _translation() -> tuple[str, str]:
    """Every letter with diacritics that Vietnamese (and its neighbours in Latin-1 and the
    Latin extensions) writes, and the plain letter it stands for; plus A–Z → a–z."""
    source, target = [], []
    for code in [*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        if unicodedata.normalize("NFC", char) != char:
            continue
        plain = search_key(char)
        if len(plain) == 1 and "a" <= plain <= "z" and plain != char:
            source.append(char)
            target.append(plain)
    return "".join(source), "".join(target)


ACCENTED, PLAIN = _translation()
SQLITE_FUNCTION = "khuyenhoc_search_key"


class SearchKey(Func):
    """`search_key(field)` computed by the database (names are stored NFC: see clean_text)."""

    output_field = CharField()
    arity = 1

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"TRANSLATE({sql}, %s, %s)", [*params, ACCENTED, PLAIN]

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_function(SQLITE_FUNCTION, 1, search_key, deterministic=True)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{SQLITE_FUNCTION}({sql})", params


def words(text: str | None) -> list[str]:
    """The typed words as search keys: "  Phúc  XÁ " → ["phuc", "xa"]."""
    return search_key(str(text or "")[:MAX_QUERY]).split()[:MAX_WORDS]


def picker_response(results: list[dict], *, more: bool) -> JsonResponse:
    """{"results": [{"value", "label", "detail"}...], "more": bool}: value is what the form
    posts, label what the picker shows once chosen, detail a second line (a branch's path, a
    fund's branch)."""
    response = JsonResponse({"results": results[:LIMIT], "more": more})
    response["Cache-Control"] = "private, no-store"
    return response
