"""The load test: 20 signed-in clients for 60 s per page (locust, headless) against gunicorn
and PostgreSQL, each page against the trivial signed-in page served the same way.

    python -m bench.load            # starts gunicorn itself on a free port, stops it after

gunicorn runs the portal with DEBUG off (static files collected first), 2 × cores sync
workers; locust runs on the same machine, so it competes for the same cores — the ratios
compare like with like.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import out_dir, save
from bench.scenarios import SCENARIOS as PAGES

ROOT = Path(__file__).resolve().parent.parent
# BENCH_SCENARIOS="trivial donations_city" runs some of them (the trivial page first, always).
CHOSEN = os.environ.get("BENCH_SCENARIOS", " ".join(PAGES)).split()
SCENARIOS = ["trivial", *[name for name in CHOSEN if name != "trivial"]]
USERS = int(os.environ.get("BENCH_USERS", "20"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment() -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "false",
            "SECRET_KEY": "benchmark-only-not-secret-" + "x" * 30,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def main() -> None:
    env = _environment()
    python = sys.executable
    bindir = Path(python).parent
    # LOCUST=/path/to/locust when locust lives in a virtualenv of its own.
    locust = os.environ.get("LOCUST") or str(bindir / "locust")
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    workers = 2 * (os.cpu_count() or 1)
    gunicorn = subprocess.Popen(
        [str(bindir / "gunicorn"), "khuyenhoc.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    host = f"http://127.0.0.1:{port}"
    results = {"users": USERS, "seconds": SECONDS, "workers": workers, "scenarios": {}}
    try:
        for _ in range(100):  # until gunicorn answers (the login page needs no worker or broker)
            try:
                urllib.request.urlopen(host + "/accounts/login/", timeout=2)  # noqa: S310 — our loopback server
                break
            except OSError:
                time.sleep(0.2)
        for scenario in SCENARIOS:
            prefix = out_dir() / f"locust_{scenario}"
            subprocess.run(
                [locust, "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                 "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "--host", host,
                 "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
                cwd=ROOT, env={**env, "BENCH_SCENARIO": scenario}, check=True,
            )  # fmt: skip
            with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
                rows = {row["Name"]: row for row in csv.DictReader(handle)}
            page = next(row for name, row in rows.items() if name.startswith("/"))
            results["scenarios"][scenario] = {
                "path": page["Name"],
                "requests": int(page["Request Count"]),
                "failures": int(page["Failure Count"]),
                "p50_ms": float(page["50%"]),
                "p95_ms": float(page["95%"]),
                "rps": float(page["Requests/s"]),
            }
            print(scenario, results["scenarios"][scenario])
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    save("load", results)


if __name__ == "__main__":
    main()
