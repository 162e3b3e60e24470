"""Settings come from the environment; production refuses to start without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSTHROUGH = {"PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT"}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key in PASSTHROUGH}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", env={"DEBUG": "false", "ALLOWED_HOSTS": "khuyenhoc.example.vn"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", env={"DEBUG": "false", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_a_misspelt_boolean_stops_the_start_naming_the_variable():
    result = run_manage("check", env={"DEBUG": "flase"})
    assert result.returncode != 0
    assert "DEBUG='flase' is not a boolean" in result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused():
    result = run_manage("check", env={"DATABASE_URL": "mysql://u:p@localhost/db"})
    assert result.returncode != 0
    assert "DATABASE_URL must start with postgres://" in result.stderr


def test_check_deploy_is_clean_with_the_production_values_of_env_example():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env_example())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_env_example_lists_every_variable_settings_read():
    source = (ROOT / "khuyenhoc" / "settings.py").read_text(encoding="utf-8")
    documented = (ROOT / ".env.example").read_text(encoding="utf-8")
    import re

    names = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_]+)"', source))
    assert names, "settings read no variables?"
    missing = sorted(name for name in names if name not in documented)
    assert missing == []


def test_each_parallel_test_process_takes_its_own_redis_database():
    from khuyenhoc.env import redis_url_for_test_worker

    url = "redis://127.0.0.1:6379/0"
    assert redis_url_for_test_worker(url, "gw0") == "redis://127.0.0.1:6379/1"
    assert redis_url_for_test_worker(url, "gw3") == "redis://127.0.0.1:6379/4"
    assert redis_url_for_test_worker(url, "") == url
    assert redis_url_for_test_worker(url, "master") == url
