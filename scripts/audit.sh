#!/usr/bin/env bash
# Outside checkers against the portal served locally with the demo data (make audit):
#   1. wapiti (PyPI wapiti3, in .venv-audit) crawls and attacks the portal signed in as the
#      demo commune clerk; any finding of medium, high or critical severity fails the audit;
#   2. axe-core (npm) through Playwright on five pages: no serious or critical violation.
# Runs inside scripts/with-services.sh (PostgreSQL and Redis of its own, on loopback).
#   WAPITI_MAX_SCAN_TIME (seconds, default 600) bounds the crawl, WAPITI_MAX_ATTACK_TIME (60)
#   each attack module. The demo data has thousands of records: at most 20 pages of each
#   folder (/funds/donations/<id>/ …) are attacked. The SSRF module needs wapiti's servers
#   on the internet and is left out.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?run through scripts/with-services.sh (make audit)}"
PY=.venv/bin/python
AUDIT_VENV=.venv-audit
REPORTS=${AUDIT_REPORTS:-audit-reports}
mkdir -p "$REPORTS"

if [ ! -x "$AUDIT_VENV/bin/wapiti" ] || ! cmp -s requirements-audit.txt "$AUDIT_VENV/.installed"; then
  python3 -m venv "$AUDIT_VENV"
  "$AUDIT_VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements-audit.txt
  cp requirements-audit.txt "$AUDIT_VENV/.installed"
fi

echo "audit: database and demo data"
"$PY" manage.py migrate --noinput >/dev/null
DEBUG=true "$PY" manage.py demo_setup >/dev/null

# Production settings, except TLS: the scan talks plain HTTP on loopback.
export DJANGO_SETTINGS_MODULE=khuyenhoc.settings
export DEBUG=false SECRET_KEY="audit-$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false
export SECURE_HSTS_SECONDS=0 DEMO_BANNER=true
"$PY" manage.py collectstatic --noinput >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE="http://127.0.0.1:$PORT"
.venv/bin/gunicorn khuyenhoc.wsgi --bind "127.0.0.1:$PORT" --workers 2 --timeout 120 --log-level warning \
  --error-logfile "$REPORTS/gunicorn.log" >"$REPORTS/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -fs -o /dev/null "$BASE/accounts/login/" && break; sleep 0.5; done

# A session of the demo commune clerk, made the way the sign-in page makes one.
SESSION=$("$PY" - <<'EOF'
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
client = Client()
client.force_login(get_user_model().objects.get(username="canbo.phucxa"))
print(client.cookies["sessionid"].value)
EOF
)

echo "audit: wapiti against $BASE signed in as canbo.phucxa"
started=$(date +%s)
# Signing out or switching the language would end or change the scanned session.
"$AUDIT_VENV/bin/wapiti" -u "$BASE/" --scope folder -C "sessionid=$SESSION" \
  -x "$BASE/accounts/logout/" -x "$BASE/i18n/setlang/" -x "$BASE/accounts/password_change/" \
  -x "$BASE/admin/logout/" \
  --max-files-per-dir 20 --max-scan-time "${WAPITI_MAX_SCAN_TIME:-600}" --max-attack-time "${WAPITI_MAX_ATTACK_TIME:-60}" \
  --tasks 8 -m "common,-ssrf" \
  --flush-session -f json -o "$REPORTS/wapiti.json" -v 0 >"$REPORTS/wapiti.log" 2>&1 || true
echo "audit: wapiti took $(( $(date +%s) - started )) s"

"$PY" - "$REPORTS/wapiti.json" <<'EOF'
import json
import sys

report = json.load(open(sys.argv[1], encoding="utf-8"))
names = {0: "info", 1: "low", 2: "medium", 3: "high", 4: "critical"}
counts, blocking = {}, []
for section in ("vulnerabilities", "anomalies"):
    for category, findings in report.get(section, {}).items():
        for finding in findings:
            level = finding.get("level", 0)
            counts[names.get(level, level)] = counts.get(names.get(level, level), 0) + 1
            if level >= 2:
                blocking.append(f"{names.get(level)}: {category}: {finding.get('path')} {finding.get('info', '')[:200]}")
info = report.get("infos", {})
crawled = info.get("crawled_pages_nbr") or len(info.get("crawled_pages", []))
print(f"audit: wapiti crawled {crawled} pages; findings by severity: {counts or 'none'}")
for line in blocking:
    print("  " + line)
sys.exit(1 if blocking else 0)
EOF

echo "audit: axe-core on five pages"
.venv/bin/pytest tests/e2e/test_accessibility.py -q -s -p no:cacheprovider
echo "audit: clean"
