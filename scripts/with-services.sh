#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster and Redis server on loopback ports of
# their own, then stop both and delete their data, whatever the command's outcome.
#   scripts/with-services.sh pytest ...
# Exports DATABASE_URL, REDIS_URL, plus PG_BINDIR, PG_DATA, PG_PORT, PG_SOCKET_DIR,
# REDIS_PORT, REDIS_SERVER for tests that stop and start the services themselves.
set -euo pipefail

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
WORK=$(mktemp -d /tmp/khuyenhoc-services.XXXXXX)
chmod 755 "$WORK"
PG_DATA="$WORK/pg"
PG_SOCKET_DIR="$WORK"
PG_PORT=${PG_PORT:-$(free_port)}
REDIS_PORT=${REDIS_PORT:-$(free_port)}
REDIS_SERVER=$(command -v redis-server)

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres "$WORK"; fi

cleanup() {
  set +e
  as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
  if [ -f "$WORK/redis.pid" ]; then kill "$(cat "$WORK/redis.pid")" 2>/dev/null; fi
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

as_pg "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log"; exit 1; }
# Throwaway data: durability settings off for speed.
as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$WORK/pg.log" -w -t 60 \
  -o "-p $PG_PORT -k $PG_SOCKET_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$WORK/pg.log"; exit 1; }
"$PG_BINDIR/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE khuyenhoc" >/dev/null

"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" --dir "$WORK"
for _ in $(seq 50); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/khuyenhoc"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export PG_BINDIR PG_DATA PG_PORT PG_SOCKET_DIR REDIS_PORT REDIS_SERVER
echo "PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT"
"$@"
