"""Display rows of a list page, computed once in Python rather than by template tags per row.

A list of 50 rows with a `{% url %}`, a `get_FOO_display` and a filter or two per cell costs a
few thousand template nodes per request; under load that CPU is what a list page's p95 is
made of (bench/NOTES.md). The helpers here build what a row shows: a detail URL from one
`reverse()` per page, labels of a choices class from one dict.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

_SENTINEL = 987654321  # a primary key no URL pattern contains elsewhere


def pk_url(url_name: str) -> Callable[[int], str]:
    """A function pk → the URL of `url_name` with that one integer argument, from one reverse()
    (reverse per row was 80 calls and ~5 % of a list page)."""
    before, after = reverse(url_name, args=[_SENTINEL]).split(str(_SENTINEL))
    return lambda pk: f"{before}{int(pk)}{after}"


def choice_labels(choices) -> dict:
    """{value: translated label} of a TextChoices class, in the request's language."""
    return {value: str(label) for value, label in choices.choices}
