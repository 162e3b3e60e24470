"""The embedded default of `make run`: no variables, SQLite, eager Celery, nothing else running."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # one of the slowest files: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parents[2]

SIGN_IN_SCRIPT = """
from django.test import Client
from django.conf import settings
assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), settings.DATABASES
assert settings.CELERY_TASK_ALWAYS_EAGER
client = Client()
page = client.get("/accounts/login/")
assert page.status_code == 200, page.status_code
assert "Đăng nhập" in page.content.decode(), "login page is not in Vietnamese"
response = client.post("/accounts/login/", {"username": "canbo.phucxa", "password": "khuyenhoc-demo"}, follow=True)
html = response.content.decode()
assert response.status_code == 200 and "Phường Hồng Hà" in html, html[:2000]  # Phúc Xá merged into it
health = client.get("/healthz")
assert health.status_code == 200, health.content
print("EMBEDDED-OK")
"""


def test_a_fresh_embedded_portal_migrates_sets_up_demo_accounts_and_signs_one_in(tmp_path):
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env["SQLITE_PATH"] = str(tmp_path / "embedded.sqlite3")
    env["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    manage("migrate", "--noinput")
    first = manage("demo_setup")
    assert "canbo.phucxa" in first and "khuyenhoc-demo" in first
    second = manage("demo_setup")
    assert second == first, "demo_setup is not idempotent"
    assert "EMBEDDED-OK" in manage("shell", "-c", SIGN_IN_SCRIPT)
