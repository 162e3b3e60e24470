"""Where a load-tested page spends its CPU: each page of bench/locustfile.py requested through
Django's test client (DEBUG off, the bench settings), a few warm-up requests, then N requests
under cProfile; prints the mean time per request with and without the profiler, each query of one request with
its wall time, and the top functions.

    python -m bench.profile_pages [scenario ...]     # BENCH_PROFILE_REQUESTS=20, BENCH_PROFILE_TOP=25

Not part of `make bench`: a tool to read before changing a page (bench/NOTES.md says what it showed).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time

from bench.common import setup_django
from bench.load import _environment

REQUESTS = int(os.environ.get("BENCH_PROFILE_REQUESTS", "20"))
TOP = int(os.environ.get("BENCH_PROFILE_TOP", "25"))
SQL_WIDTH = int(os.environ.get("BENCH_PROFILE_SQL_WIDTH", "160"))


def main(names: list[str]) -> None:
    os.environ.update(_environment())  # the load test's: DEBUG off, its settings
    setup_django("bench.settings")
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.scenarios import SCENARIOS, scenario_path

    users = get_user_model().objects
    for name in names or list(SCENARIOS):
        username, path = SCENARIOS[name]
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(users.get(username=username))
        path = scenario_path(lambda url, client=client: client.get(url).content.decode(), path)
        for _ in range(3):
            response = client.get(path)
            assert response.status_code == 200, (name, path, response.status_code)
        # Django's request_started signal empties connection.queries_log, so the queries are
        # counted and timed by a wrapper instead (the SQL wall time of one request, per query).
        queries = []

        def timed(execute, sql, params, many, context, queries=queries):
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((time.perf_counter() - start, sql))

        plain = []
        for _ in range(REQUESTS):
            start = time.perf_counter()
            client.get(path)
            plain.append(time.perf_counter() - start)
        with connection.execute_wrapper(timed):
            client.get(path)
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        for _ in range(REQUESTS):
            client.get(path)
        profiler.disable()
        elapsed = (time.perf_counter() - start) / REQUESTS
        plain.sort()
        sql_ms = sum(seconds for seconds, _ in queries) * 1000
        print(
            f"=== {name} {path}: {elapsed * 1000:.1f} ms per request under cProfile, "
            f"{plain[len(plain) // 2] * 1000:.1f} ms median without; {len(queries)} queries, {sql_ms:.1f} ms SQL"
        )
        for seconds, sql in queries:
            print(f"    {seconds * 1000:7.1f} ms  {' '.join(sql.split())[:SQL_WIDTH]}")
        for sort in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(TOP)
            print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


if __name__ == "__main__":
    main(sys.argv[1:])
