"""What every benchmark shares: Django set-up, timing, and where results go.

Each benchmark writes one JSON file into BENCH_OUT (default bench/results/, ignored by git);
`bench/report.py` turns them into BENCHMARKS.md. Nothing here asserts a time: the figures
are ratios against a floor measured in the same run, on the same machine.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path


def setup_django(settings_module: str = "khuyenhoc.settings") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def out_dir() -> Path:
    path = Path(os.environ.get("BENCH_OUT") or Path(__file__).resolve().parent / "results")
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(name: str, data: dict) -> None:
    (out_dir() / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def load(name: str) -> dict | None:
    path = out_dir() / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def timed(function, *, repeat: int = 5, warmup: int = 1) -> tuple[float, object]:
    """Median wall-clock seconds of `repeat` runs after `warmup` runs, and the last result."""
    result = None
    for _ in range(warmup):
        result = function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result
