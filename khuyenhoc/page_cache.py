"""A cache of rendered pages that never shows data older than the last write of the records a
page shows (issue 16: "test that a write is visible on the next request").

*Data versions.* Each family of records (`REGISTRY`: branches, organisations, members, staff;
`MONEY`: funds, donations, transfers, payments, the ledger, rounds and awards) has a version
stamp in the cache: a random token, replaced by `data_bump(family)` when a write to the family's
records happens — at once, and again when the write's transaction commits. The apps call it
from their signals (`khuyenhoc/signals.py`: every service that moves figures sends one) and
from their models' `post_save` / `post_delete` (every other single-row write: a fund renamed, a
round opened); see each app's `AppConfig.ready()`. A missing stamp (never set, or evicted) is
created afresh with a new random token, never a counter that could come back to an old value.

Why bump twice: a page read between the write and its commit sees the old rows and may store
them under the stamp of the first bump; the bump at commit moves the stamp past it. A reader
takes the stamps *before* reading any data, so what it stores under a stamp is never older
than the writes that stamp has seen.

*Pages.* `cached_response(request, key_parts, render, families)` returns the stored bytes of
a page rendered for the same key — the caller's scope (the user, their branch and role), the
language, the full path with its query, today's date, the database and the portal's version,
and the families' stamps — or renders it and stores it. What varies per request is put back:
the CSRF token (stored as a placeholder, replaced by this request's token). A request with
messages waiting to be shown, a non-GET request, and a response other than a 200 HTML page are
never cached. When the cache is down the page is rendered as if no cache existed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils import timezone, translation

import khuyenhoc

logger = logging.getLogger(__name__)

REGISTRY = "registry"
MONEY = "money"
FAMILIES = (REGISTRY, MONEY)

# Pages kept at most this long even without a write: a bound on what a write made without
# reaching the cache (the cache down at that moment) could leave behind.
PAGE_TIMEOUT = 300
_CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
_TOKEN = re.compile(rb"[A-Za-z0-9]{64}")


def _version_key(family: str) -> str:
    return f"data-version:{connection.settings_dict.get('NAME')}:{family}"


def data_versions(families: Iterable[str]) -> tuple[str, ...] | None:
    """The families' current stamps (creating missing ones), or None when the cache is down."""
    keys = [_version_key(family) for family in families]
    try:
        found = cache.get_many(keys)
        missing = [key for key in keys if key not in found]
        for key in missing:
            cache.add(key, secrets.token_hex(8), timeout=None)
        if missing:
            found.update(cache.get_many(missing))
        return tuple(str(found[key]) for key in keys)
    except Exception:  # the cache is down or refused: no stamp, so nothing is read or stored
        logger.warning("page cache: data versions unavailable", exc_info=True)
        return None


def _bump_now(families: tuple[str, ...]) -> None:
    try:
        cache.set_many({_version_key(family): secrets.token_hex(8) for family in families}, timeout=None)
    except Exception:
        logger.warning("page cache: could not bump %s (pages stay at most %s s)", families, PAGE_TIMEOUT, exc_info=True)


def data_bump(*families: str) -> None:
    """Mark the families' records as written: now, and again when the transaction commits."""
    _bump_now(families)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: _bump_now(families))


def bump_receiver(family: str) -> Callable:
    """A signal receiver (project signals, post_save, post_delete) that bumps `family`."""

    def receiver(sender=None, **kwargs):
        data_bump(family)

    receiver.__name__ = f"bump_{family}"
    return receiver


def _messages_waiting(request: HttpRequest) -> bool:
    storage = get_messages(request)
    return bool(storage is not None and len(storage))


def _page_key(request: HttpRequest, key_parts: tuple, versions: tuple[str, ...]) -> str:
    parts = (
        khuyenhoc.__version__,
        connection.settings_dict.get("NAME"),
        translation.get_language(),
        timezone.localdate().isoformat(),
        request.get_full_path(),
        repr(key_parts),
        versions,
    )
    return "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _with_placeholder(content: bytes, request: HttpRequest) -> bytes:
    """The page with every CSRF token of this request's secret replaced by a placeholder."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return content

    def swap(match: re.Match) -> bytes:
        token = match.group(0)
        return _CSRF_PLACEHOLDER if _unmask_cipher_token(token.decode()) == secret else token

    return _TOKEN.sub(swap, content)


def cached_response(
    request: HttpRequest,
    *,
    key_parts: tuple,
    render: Callable[[], HttpResponse],
    families: Iterable[str] = FAMILIES,
) -> HttpResponse:
    """The page for `request`, from the cache when it was rendered for the same key and no write
    to `families` has happened since; `key_parts` must hold everything besides the path and the
    language that changes what the page shows (who asks, their branch and role)."""
    if request.method != "GET" or _messages_waiting(request) or not getattr(settings, "PAGE_CACHE", True):
        return render()
    versions = data_versions(tuple(families))
    if versions is None:
        return render()
    key = _page_key(request, key_parts, versions)
    try:
        stored = cache.get(key)
    except Exception:
        logger.warning("page cache: read failed", exc_info=True)
        return render()
    if stored is not None:
        content_type, content = stored
        token = get_token(request).encode()
        response = HttpResponse(content.replace(_CSRF_PLACEHOLDER, token), content_type=content_type)
        response["X-Page-Cache"] = "hit"
        return response
    response = render()
    content_type = response.get("Content-Type", "")
    if response.status_code == 200 and not response.streaming and content_type.startswith("text/html"):
        try:
            cache.set(key, (content_type, _with_placeholder(response.content, request)), timeout=PAGE_TIMEOUT)
        except Exception:
            logger.warning("page cache: write failed", exc_info=True)
    return response
