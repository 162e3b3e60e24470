"""/healthz tells a load balancer or an operator what is serving and what is down."""

import os
import socket
import threading
import time

import pytest


def test_it_answers_200_when_database_cache_and_a_worker_serve(client, db, celery_worker_process):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "celery": "ok",
    }


def test_it_needs_no_sign_in_and_caches_nothing(client, db, celery_worker_process):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _point_redis_at(settings, url: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_TIMEOUT = 1


def test_it_answers_503_naming_redis_when_redis_is_down(client, db, settings):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: run with `make test`")
    _point_redis_at(settings, f"redis://127.0.0.1:{_closed_port()}/0")
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert set(body["down"]) == {"cache", "celery"}
    assert body["checks"]["database"]["status"] == "ok"
    assert elapsed < 10


def test_a_redis_that_accepts_but_never_answers_does_not_hang_the_request(client, db, settings):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: run with `make test`")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    accepted = []
    stop = threading.Event()

    def accept_and_ignore():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = silent.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_ignore, daemon=True)
    thread.start()
    try:
        _point_redis_at(settings, f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        silent.close()
    assert response.status_code == 503
    assert "cache" in response.json()["down"]
    assert elapsed < 10, f"the request hung for {elapsed:.1f} s"


def _redis_down(settings) -> int:
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: run with `make test`")
    port = _closed_port()
    _point_redis_at(settings, f"redis://127.0.0.1:{port}/0")
    return port


@pytest.mark.parametrize("who", ["anonymous", "manager"])
def test_anyone_but_an_administrator_learns_only_what_is_up_and_down(who, client, client_for, cast, settings):
    caller = client if who == "anonymous" else client_for(cast.manager)
    port = _redis_down(settings)
    response = caller.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body == {
        "status": "down",
        "down": ["cache", "celery"],
        "checks": {"database": {"status": "ok"}, "cache": {"status": "down"}, "celery": {"status": "down"}},
    }
    text = response.content.decode()
    assert str(port) not in text and "Error" not in text and "127.0.0.1" not in text


def test_a_signed_in_superuser_sees_what_went_wrong(client_for, cast, settings):
    superuser = client_for(cast.admin)
    port = _redis_down(settings)
    response = superuser.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert "Error" in checks["cache"]["error"] and str(port) in checks["cache"]["error"]
    assert checks["celery"]["error"]
    assert "error" not in checks["database"]
