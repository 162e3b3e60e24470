"""Read settings from environment variables, failing loudly on values that make no sense.

A typo such as DEBUG=flase or REDIS_URL=redis:/x must stop the process at start-up with a
message naming the variable, not silently fall back to a default.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of true/false, 1/0, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str, *, conn_max_age: int = 60) -> dict:
    """Turn postgres://user:password@host:port/name?sslmode=require into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// or postgresql:// (got {parts.scheme or 'nothing'}://)."
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL names no database (postgres://user:pass@host:port/NAME).")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("DATABASE_URL has a port that is not a number.") from None
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    # Fail fast when the server is unreachable instead of hanging a request.
    options.setdefault("connect_timeout", "5")
    # No JIT compilation: the portal's statements are short, set-based queries whose plans
    # still cost more than PostgreSQL's JIT threshold at a city's size, and compiling them took
    # 20–570 ms a statement, more than it saved (Plan 99's membership indicator at full size:
    # 1.36 s with it, 1.02 s without). The bulk generator switches it back on for its own
    # statements (demo/generator). A URL's own ?options=… replaces this.
    options.setdefault("options", "-c jit=off")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": conn_max_age,
        # A connection kept across requests is checked before use, so a PostgreSQL restart
        # costs one reconnect instead of a server error.
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


def check_redis_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(f"REDIS_URL must look like redis://host:port/0 (got {url!r}).")
    try:
        _port = parts.port
    except ValueError:
        raise ImproperlyConfigured("REDIS_URL has a port that is not a number.") from None
    return url


def redis_url_for_test_worker(url: str, worker: str) -> str:
    """`url` with its database number replaced by 1 + N for the parallel test process "gwN"
    (pytest-xdist's PYTEST_XDIST_WORKER), unchanged outside a parallel test run."""
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{1 + int(worker[2:])}"))
