"""The state of what the portal depends on, for /healthz and the dashboards' staleness notes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from khuyenhoc.celery import app


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


def check_cache() -> str | None:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=10)
        value = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return None if value == "ok" else "cache did not return what was stored"


def check_celery() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # embedded mode: tasks run in the web process itself

    try:
        # A fresh connection to the broker named in settings right now, with its short timeouts.
        with app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
            connection.ensure_connection(max_retries=1, timeout=settings.REDIS_TIMEOUT)
            replies = app.control.ping(timeout=1.0, connection=connection)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return None if replies else "no Celery worker answered"


def health_report(*, detailed: bool = False) -> tuple[bool, dict]:
    """Whether everything serves, and a report: up/down per component for anyone (what a load
    balancer needs); with `detailed`, for a signed-in administrator, the error text and mode
    too. Exception text names hosts, ports and versions, so it is never shown to the public."""
    checks = {"database": check_database(), "cache": check_cache(), "celery": check_celery()}
    report = {name: {"status": "ok" if error is None else "down"} for name, error in checks.items()}
    if detailed:
        for name, error in checks.items():
            if error is not None:
                report[name]["error"] = error
        if settings.CELERY_TASK_ALWAYS_EAGER:
            report["celery"]["mode"] = "eager"
    healthy = all(error is None for error in checks.values())
    down = [name for name, error in checks.items() if error is not None]
    return healthy, {"status": "ok" if healthy else "down", "down": down, "checks": report}
