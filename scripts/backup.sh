#!/usr/bin/env bash
# Dump the portal's PostgreSQL database (DATABASE_URL) into backups/<timestamp>.dump, in
# pg_dump's custom format (compressed; pg_restore can restore all or part of it).
#   DATABASE_URL=postgres://… scripts/backup.sh [directory]
set -euo pipefail

if [ -z "${DATABASE_URL:-}" ]; then
  echo "backup: DATABASE_URL is not set (postgres://user:password@host:port/name)" >&2
  exit 2
fi
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) echo "backup: DATABASE_URL must be a PostgreSQL URL" >&2; exit 2 ;;
esac

bindir=${PG_BINDIR:-$(dirname "$(command -v pg_dump 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_dump 2>/dev/null | sort -V | tail -n 1)")}
directory=${1:-${BACKUP_DIR:-backups}}
mkdir -p "$directory"
file="$directory/khuyenhoc-$(date -u +%Y%m%dT%H%M%SZ).dump"

# Written under a temporary name and renamed once complete: a dump cut short never looks finished.
"$bindir/pg_dump" --format=custom --no-owner --no-privileges --file="$file.partial" --dbname="$DATABASE_URL"
mv "$file.partial" "$file"
echo "$file"
