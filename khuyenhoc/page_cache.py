"""A cache of rendered pages that never shows data older than the last write of the records a
page shows (issue 16: "test that a write is visible on the next request").

*Data versions.* Each family of records (`REGISTRY`: branches, organisations, members, staff,
the reorganisations' lineage; `MONEY`: funds, donations, transfers, payments, the ledger and its
stored totals, rounds and awards; `PLANS`: plans, targets, the stored indicator values and
year totals, the recompute runs) has a version stamp in the cache: a random token, replaced by
`data_bump(family)` when a write to one of the family's tables happens — at once, and again when
the write's transaction commits. The writes are seen where they cannot be missed: every
statement Django sends (`connection.execute_wrapper`, installed on each new connection) that
is not a read and names a table the apps registered (`tables_register`, in each app's
`AppConfig.ready()`) bumps that table's family — a service's save, a queryset `update()`, a
`bulk_create`, an import, the reorganisation's raw SQL alike (at once for each statement, at
commit once per transaction and family).
`khuyenhoc.bulk`'s COPY, which passes Django's cursor by, notes its writes itself
(`writes_note`). Only writes made outside the portal (psql, a loader's own connection) are not
seen: the pages they leave are dropped by `PAGE_TIMEOUT`. A missing stamp (never set, or
evicted) is created afresh with a new random token, never a counter that could come back to an
old value.

Why bump twice: a page read between the write and its commit sees the old rows and may store
them under the stamp of the first bump; the bump at commit moves the stamp past it. A reader
takes the stamps *before* reading any data, so what it stores under a stamp is never older
than the writes that stamp has seen.

*Pages.* `cached_response(request, key_parts, render, families)` returns the stored bytes of
a page rendered for the same key — the caller's scope (the user, their branch and role), the
language, the full path with its query, today's date, the database and the portal's version,
and the families' stamps — or renders it and stores it; requests for a page being rendered wait
for that rendering (up to `RENDER_WAIT`) instead of rendering it again. What varies per request is put back:
the CSRF token (stored as a placeholder, replaced by this request's token). A request with
messages waiting to be shown, a non-GET request, and a response other than a 200 HTML page are
never cached. When the cache is down the page is rendered as if no cache existed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils import timezone, translation

import khuyenhoc

logger = logging.getLogger(__name__)

REGISTRY = "registry"
MONEY = "money"
PLANS = "plans"

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


def data_bump(*families: str, using: str = "default") -> None:
    """Mark the families' records as written: now, and again when the transaction commits."""
    _bump_now(families)
    if connections[using].in_atomic_block:
        transaction.on_commit(lambda: _bump_now(families), using=using)


# table name → family, filled by the apps (tables_register); the statements that write
_TABLES: dict[str, str] = {}
_TABLE_NAMES: re.Pattern | None = None
_READS = ("SELECT", "EXPLAIN", "SAVEPOINT", "RELEASE", "SET ", "SHOW", "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")
_WRITES = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE|COPY)\b", re.IGNORECASE)


def tables_register(family: str, models: Iterable) -> None:
    """Writes to these models' tables bump `family`'s stamp (called in `AppConfig.ready()`)."""
    global _TABLE_NAMES
    for model in models:
        _TABLES[model._meta.db_table] = family
    _TABLE_NAMES = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _TABLES), key=len, reverse=True)) + r")\b")


def _written_families(sql: str) -> set[str]:
    head = sql.lstrip()[:10].upper()
    if head.startswith(_READS) or _TABLE_NAMES is None or not _WRITES.search(sql):
        return set()
    return {_TABLES[name] for name in _TABLE_NAMES.findall(sql)}


def _watch(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if isinstance(sql, str):
        writes_note(sql, context["connection"])
    return result


def writes_note(sql: str, connection) -> None:
    """Bump the stamps of the tables `sql` writes; called for every statement Django sends,
    and by code that writes past Django's cursor (khuyenhoc.bulk's COPY)."""
    if families := tuple(sorted(_written_families(sql))):
        # At once, every time (the same transaction may read a page between two writes) ...
        _bump_now(families)
        if connection.in_atomic_block:
            # ... and at commit, registered once per transaction and family: a callback still
            # waiting in run_on_commit is this transaction's (a rollback drops it).
            pending = getattr(connection, "_page_cache_pending", {})
            waiting = {callback for _sids, callback, _robust in connection.run_on_commit}
            fresh = tuple(family for family in families if pending.get(family) not in waiting)
            if fresh:

                def at_commit(fresh=fresh):
                    _bump_now(fresh)

                connection.on_commit(at_commit)
                connection._page_cache_pending = {**pending, **dict.fromkeys(fresh, at_commit)}


def writes_watch(sender=None, connection=None, **kwargs) -> None:
    """connection_created: watch the new connection's writes (see the module's docstring)."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


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
    families: Iterable[str],
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
    if stored is None and not _first_to_render(key):
        stored = _rendered_by_another(key)
    if stored is not None:
        content_type, content = stored
        token = get_token(request).encode()
        response = HttpResponse(content.replace(_CSRF_PLACEHOLDER, token), content_type=content_type)
        response["X-Page-Cache"] = "hit"
        return response
    try:
        response = render()
        content_type = response.get("Content-Type", "")
        if response.status_code == 200 and not response.streaming and content_type.startswith("text/html"):
            try:
                cache.set(key, (content_type, _with_placeholder(response.content, request)), timeout=PAGE_TIMEOUT)
            except Exception:
                logger.warning("page cache: write failed", exc_info=True)
    finally:
        _done_rendering(key)
    return response


# A page asked for by several requests at once (its stamps just moved, or a burst of readers) is
# rendered by the first; the others wait for its result up to RENDER_WAIT seconds, then render.
RENDER_WAIT = 5.0
_POLL = 0.05


def _first_to_render(key: str) -> bool:
    try:
        return bool(cache.add(key + ":rendering", 1, timeout=int(RENDER_WAIT * 6)))
    except Exception:
        return True


def _rendered_by_another(key: str):
    deadline = time.monotonic() + RENDER_WAIT
    try:
        while time.monotonic() < deadline:
            time.sleep(_POLL)
            if (stored := cache.get(key)) is not None:
                return stored
            if cache.get(key + ":rendering") is None:  # the other render failed or was not cacheable
                return None
    except Exception:
        return None
    return None


def _done_rendering(key: str) -> None:
    try:
        cache.delete(key + ":rendering")
    except Exception:
        logger.warning("page cache: could not release %s", key, exc_info=True)
