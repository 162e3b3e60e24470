"""Count the project's imports between its own packages, and the imports hidden in functions.

    python scripts/import_graph.py            # the figures
    python scripts/import_graph.py --list     # every cross-package and in-function import
    python scripts/import_graph.py --check    # exit 1 on an import against the layers

Reads the source with `ast` (nothing is imported or run). Tests, migrations and the
virtual environment are left out: the figures are about the portal's own code. The layers
are those of docs/ARCHITECTURE.md; a package may import only packages on a lower layer.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest first. A package may import its own layer's platform pieces only if listed lower.
LAYERS: list[tuple[str, ...]] = [
    ("khuyenhoc",),
    ("associations",),
    ("funds", "learning", "centres"),
    ("scholarships",),
    ("imports", "plans", "reporting", "reorganisation"),
    ("demo",),
]
SKIP_PARTS = {"tests", "migrations", ".venv", "node_modules", "bench", "scripts", "staticfiles"}


def _layer_of(package: str) -> int | None:
    for index, packages in enumerate(LAYERS):
        if package in packages:
            return index
    return None


def _packages() -> set[str]:
    return {p for layer in LAYERS for p in layer if (ROOT / p).is_dir()}


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def scan():
    packages = _packages()
    cross: list[tuple[str, int, str, str]] = []
    in_function: list[tuple[str, int, str]] = []
    # AppConfig.ready() is Django's documented place to import signal receivers and to
    # register with another app: counted apart, not as hidden imports.
    at_start_up: list[tuple[str, int, str]] = []
    for package in sorted(packages):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if SKIP_PARTS & set(rel.parts):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
            # (node, inside a function, inside AppConfig.ready)
            stack: list[tuple[ast.AST, bool, bool]] = [(tree, False, False)]
            while stack:
                node, inside, in_ready = stack.pop()
                for name in _imported(node):
                    target = name.split(".")[0]
                    if target in packages and target != package:
                        cross.append((str(rel), node.lineno, package, target))
                    if inside and target in packages:
                        (at_start_up if in_ready else in_function).append((str(rel), node.lineno, name))
                is_def = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                ready = in_ready or (is_def and node.name == "ready" and path.name == "apps.py")
                stack.extend((child, inside or is_def, ready) for child in ast.iter_child_nodes(node))
    return cross, in_function, at_start_up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    cross, in_function, at_start_up = scan()
    upward = [row for row in cross if _layer_of(row[3]) is not None and _layer_of(row[3]) >= _layer_of(row[2])]
    edges = Counter((src, dst) for _, _, src, dst in cross)
    print(f"imports between the project's packages: {len(cross)}")
    for (src, dst), count in sorted(edges.items()):
        print(f"  {src} -> {dst}: {count}")
    print(f"imports of the project's packages inside functions: {len(in_function)}")
    print(f"imports in AppConfig.ready() (registrations at start-up): {len(at_start_up)}")
    print(f"imports against the layers (same layer or upward): {len(upward)}")
    if args.list:
        for path, line, src, dst in sorted(cross):
            print(f"cross {path}:{line} {src} -> {dst}")
        for path, line, name in sorted(in_function):
            print(f"in-function {path}:{line} {name}")
    if upward:
        for path, line, src, dst in sorted(upward):
            print(f"AGAINST THE LAYERS {path}:{line} {src} -> {dst}", file=sys.stderr)
    return 1 if args.check and upward else 0


if __name__ == "__main__":
    sys.exit(main())
