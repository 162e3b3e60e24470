#!/usr/bin/env bash
# The whole suite as `make test` runs it, inside scripts/with-services.sh:
#   1. every test not marked `services`, in TEST_WORKERS parallel processes (pytest-xdist;
#      default: the machine's cores, at most 4). Each process has its own test database
#      (test_khuyenhoc_gw0, …) and Redis database number (khuyenhoc/settings.py), and takes
#      whole files, so a module's shared fixture is built once (a file's tests that commit
#      are queued after every file's other tests: tests/conftest.py);
#   2. then the tests marked `services`, in one process: they stop and start the PostgreSQL
#      server, Redis and Celery workers that parallel processes would share.
# Extra arguments go to both runs (one file, -k …); a run that selects no test passes.
#   scripts/test-suite.sh [pytest arguments]
set -uo pipefail

PYTEST=${PYTEST:-.venv/bin/pytest}
cores=$(nproc 2>/dev/null || echo 1)
workers=${TEST_WORKERS:-$(( cores < 4 ? cores : 4 ))}

run() {
  "$PYTEST" "$@"
  local status=$?
  # 5: this run selected no test (e.g. one file with no `services` test in it)
  if [ "$status" -eq 5 ]; then return 0; fi
  return "$status"
}

status=0
if [ "$workers" -gt 1 ]; then
  run -n "$workers" --dist loadgroup -m "not services" "$@" || status=$?
else
  run -m "not services" "$@" || status=$?
fi
run -m services "$@" || status=$?
exit "$status"
