"""The import graph follows the layers of docs/ARCHITECTURE.md."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _graph(*args):
    return subprocess.run(
        [sys.executable, "scripts/import_graph.py", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_no_package_imports_one_on_its_own_layer_or_above():
    result = _graph("--check")
    assert result.returncode == 0, result.stderr
    assert "imports against the layers (same layer or upward): 0" in result.stdout


def test_the_project_package_imports_no_app():
    result = _graph("--list")
    offending = [line for line in result.stdout.splitlines() if line.startswith("cross khuyenhoc/")]
    assert offending == []


def test_no_project_import_hides_inside_a_function():
    result = _graph("--list")
    hidden = [line for line in result.stdout.splitlines() if line.startswith("in-function ")]
    assert hidden == []


def _layers() -> dict[str, int]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import import_graph
    finally:
        sys.path.pop(0)
    return {package: index for index, packages in enumerate(import_graph.LAYERS) for package in packages}


def test_no_model_points_at_a_model_of_an_app_above_it():
    """funds ↔ scholarships included: an award points at its payment, never the reverse."""
    from django.apps import apps

    layer = _layers()
    upward = [
        f"{model._meta.label}.{field.name} → {field.related_model._meta.label}"
        for model in apps.get_models()
        if model._meta.app_label in layer
        for field in model._meta.get_fields()
        if field.concrete
        and field.is_relation
        and field.related_model._meta.app_label in layer
        and layer[field.related_model._meta.app_label] > layer[model._meta.app_label]
    ]
    assert upward == []


def test_no_new_migration_of_a_lower_app_depends_on_an_upper_one():
    """History keeps funds 0002 → scholarships 0001 (applied databases have it); nothing after."""
    from django.db.migrations.loader import MigrationLoader

    layer = _layers()
    kept = {("funds", "0002_ledger_award_link")}
    upward = [
        f"{app}.{name} → {dependency}"
        for (app, name), migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items()
        if app in layer and (app, name) not in kept
        for dependency in migration.dependencies
        if dependency[0] in layer and layer[dependency[0]] > layer[app]
    ]
    assert upward == []
