"""docker-compose.yml describes production; no Docker engine runs here, so check it statically."""

import importlib
import shlex
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def command_of(service: dict) -> list[str]:
    command = service.get("command")
    return shlex.split(command) if isinstance(command, str) else list(command or [])


def test_it_has_the_production_services_each_with_a_health_check():
    services = compose()["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], f"{name} has no health check"


def test_exactly_one_beat_runs():
    services = compose()["services"]
    beats = [name for name, service in services.items() if "beat" in command_of(service)]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_every_command_exists_in_the_project():
    for name, service in compose()["services"].items():
        command = command_of(service)
        if not command:
            continue
        program = command[0]
        if program == "gunicorn":
            module, _, attribute = command[1].partition(":")
            assert hasattr(importlib.import_module(module), attribute), name
        elif program == "celery":
            app_module = command[command.index("-A") + 1]
            assert hasattr(importlib.import_module(app_module), "celery_app"), name
            assert command[command.index("-A") + 2] in {"worker", "beat"}
        elif program == "python":
            assert command[1] == "manage.py"
            assert command[2] in get_commands(), f"{name}: no management command {command[2]}"
        elif program == "redis-server":
            continue
        else:
            raise AssertionError(f"{name}: unexpected program {program}")


def test_data_lives_in_volumes():
    data = compose()
    assert {"pgdata", "redisdata", "media"} <= set(data["volumes"])


def test_the_dockerfile_builds_assets_and_compiles_translations():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "npm ci" in dockerfile
    assert "compilemessages" in dockerfile
    assert "collectstatic" in dockerfile
