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
