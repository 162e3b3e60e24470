#!/usr/bin/env bash
# Restore a dump made by scripts/backup.sh into the database of DATABASE_URL, replacing
# what is there (pg_restore --clean --if-exists), in one transaction: a failed restore
# leaves the database as it was.
#   DATABASE_URL=postgres://… scripts/restore.sh backups/khuyenhoc-….dump
# Asks for confirmation unless CONFIRM=yes (for scripts and CI, which have no terminal).
set -euo pipefail

file=${1:-}
if [ -z "$file" ]; then
  echo "restore: name the dump to restore: make restore FILE=backups/khuyenhoc-….dump" >&2
  exit 2
fi
if [ ! -r "$file" ]; then
  echo "restore: cannot read $file" >&2
  exit 2
fi
if [ -z "${DATABASE_URL:-}" ]; then
  echo "restore: DATABASE_URL is not set (postgres://user:password@host:port/name)" >&2
  exit 2
fi

bindir=${PG_BINDIR:-$(dirname "$(command -v pg_restore 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_restore 2>/dev/null | sort -V | tail -n 1)")}
"$bindir/pg_restore" --list "$file" >/dev/null || { echo "restore: $file is not a pg_dump custom-format dump" >&2; exit 2; }

target=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print("%s:%s/%s" % (p.hostname, p.port or 5432, p.path.lstrip("/")))' "$DATABASE_URL")
if [ "${CONFIRM:-}" != "yes" ]; then
  if [ ! -t 0 ]; then
    echo "restore: this replaces every table of $target; run again with CONFIRM=yes" >&2
    exit 2
  fi
  read -r -p "Replace every table of $target with $file? Type yes: " answer
  [ "$answer" = "yes" ] || { echo "restore: cancelled" >&2; exit 1; }
fi

"$bindir/pg_restore" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$DATABASE_URL" "$file"
echo "restore: $file restored into $target"
