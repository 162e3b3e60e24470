#!/usr/bin/env bash
# `make bench`, inside scripts/with-services.sh (a throwaway PostgreSQL and Redis): the demo's
# load time on SQLite, the small and full synthetic Hanoi, every benchmark, BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export BENCH_OUT=${BENCH_OUT:-$PWD/bench/results}
rm -rf "$BENCH_OUT"
mkdir -p "$BENCH_OUT"

seconds() { python3 -c 'import time; print(f"{time.time():.3f}")'; }
record() { # record NAME START END
  python3 -c "import json,sys; json.dump({'seconds': $3 - $2}, open('$BENCH_OUT/$1.json', 'w'))"
}

echo "== make run's demo on SQLite (migrate + demo_setup)"
DEMO_DB=$(mktemp -d)/demo.sqlite3
start=$(seconds)
env -u DATABASE_URL -u REDIS_URL SQLITE_PATH="$DEMO_DB" $PY manage.py migrate --noinput -v0
env -u DATABASE_URL -u REDIS_URL SQLITE_PATH="$DEMO_DB" $PY manage.py demo_setup >"$BENCH_OUT/demo.log"
end=$(seconds)
record demo "$start" "$end"
rm -f "$DEMO_DB"

echo "== generate_hanoi --scale small (its own database, for the query counts)"
"$PG_BINDIR/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE khuyenhoc_small" >/dev/null
SMALL_URL="postgres://postgres@127.0.0.1:$PG_PORT/khuyenhoc_small"
DATABASE_URL=$SMALL_URL $PY manage.py migrate --noinput -v0
start=$(seconds)
DATABASE_URL=$SMALL_URL $PY manage.py generate_hanoi --scale small --seed 2017 --rounds 2 | tee "$BENCH_OUT/generate_small.log"
end=$(seconds)
record generate_small "$start" "$end"
# The third round (01/07/2025) is applied by the bench, timed: the city ends on today's map.
DATABASE_URL=$SMALL_URL $PY -m bench.reorganisation small
DATABASE_URL=$SMALL_URL $PY manage.py demo_setup --force >/dev/null

echo "== generate_hanoi --scale full"
$PY manage.py migrate --noinput -v0
start=$(seconds)
# Peak memory of the generator through GNU time (Debian package `time`) when it is there.
TIMER=()
[ -x /usr/bin/time ] && TIMER=(/usr/bin/time -v -o "$BENCH_OUT/generate_full.time")
"${TIMER[@]}" $PY manage.py generate_hanoi --scale full --seed 2017 --rounds 2 | tee "$BENCH_OUT/generate_full.log"
end=$(seconds)
record generate_full "$start" "$end"
TIMER=()
[ -x /usr/bin/time ] && TIMER=(/usr/bin/time -v -o "$BENCH_OUT/reorganisation_full.time")
"${TIMER[@]}" $PY -m bench.reorganisation full
$PY manage.py demo_setup --force >/dev/null

echo "== benchmarks"
$PY -m bench.indicators
$PY -m bench.plans full
DATABASE_URL=$SMALL_URL $PY -m bench.plans small
$PY -m bench.learning full
$PY -m bench.reports
DATABASE_URL=$SMALL_URL $PY -m bench.exports small
$PY -m bench.exports full
DATABASE_URL=$SMALL_URL $PY -m bench.querycount small
$PY -m bench.querycount full
$PY -m bench.load
$PY -m bench.imports workbook
$PY -m bench.imports floor
$PY -m bench.imports engine
for kind in donations awards; do
  for step in workbook floor engine; do $PY -m bench.imports "$kind-$step"; done
done
DATABASE_URL=$SMALL_URL $PY -m bench.freshness small
$PY -m bench.freshness full
# make run's embedded mode (its own SQLite file and runserver): pages during a 20 000-row apply.
$PY -m bench.embedded

"$PG_BINDIR/postgres" --version >"$BENCH_OUT/postgres.version"
$PY -m bench.report >BENCHMARKS.md
echo "BENCHMARKS.md written"
