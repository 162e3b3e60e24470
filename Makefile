# Two commands from a fresh clone: `make run` (embedded portal with demo data) and
# `make test` (the whole suite on PostgreSQL + Redis, with a real browser, and ruff).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast lint venv assets messages compilemessages demo bench audit backup restore clean help

help:
	@echo "make run    - install, migrate the embedded SQLite database, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   - install, start throwaway PostgreSQL + Redis, run the whole suite and ruff, stop them"
	@echo "make test-fast - the same without the test files marked slow (about two minutes)"
	@echo "make lint   - ruff"
	@echo "make messages - refresh and compile the Vietnamese translation"
	@echo "make bench  - generate the full-size synthetic Hanoi on a throwaway PostgreSQL, run bench/, write BENCHMARKS.md"
	@echo "make backup  - dump the database of DATABASE_URL into backups/"
	@echo "make restore FILE=backups/….dump - restore a dump into DATABASE_URL (asks first; CONFIRM=yes skips)"
	@echo "make audit  - wapiti and axe-core against the portal served locally with demo data"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed

run: venv assets
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup --url http://$(HOST):$(PORT)/
	$(PY) manage.py runserver $(HOST):$(PORT)

test: venv assets
	bash scripts/system-deps.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTEST=$(VENV)/bin/pytest bash scripts/with-services.sh bash scripts/test-suite.sh $(PYTEST_ARGS)

# The everyday loop: everything but the files marked `slow` (CI runs `make test`).
test-fast: venv assets
	bash scripts/system-deps.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	bash scripts/with-services.sh $(VENV)/bin/pytest -m "not slow" $(PYTEST_ARGS)

bench: venv assets
	$(PIP) install --quiet --disable-pip-version-check -r requirements-bench.txt
	bash scripts/system-deps.sh
	bash scripts/with-services.sh bash bench/run.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

messages: venv
	$(PY) manage.py makemessages --locale vi --no-obsolete --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'staticfiles/*'
	$(PY) manage.py compilemessages --locale vi --ignore '.venv/*' --ignore 'node_modules/*'

compilemessages: venv
	$(PY) manage.py compilemessages --locale vi --ignore '.venv/*' --ignore 'node_modules/*'

# Backups of the PostgreSQL database named by DATABASE_URL (pg_dump custom format).
backup:
	bash scripts/backup.sh

# make restore FILE=backups/khuyenhoc-….dump [CONFIRM=yes]
restore:
	bash scripts/restore.sh "$(FILE)"

# Outside checkers against the portal served locally: wapiti (no high or medium finding)
# and axe-core (no serious or critical accessibility violation).
audit: venv assets
	bash scripts/system-deps.sh
	bash scripts/with-services.sh bash scripts/audit.sh

clean:
	rm -rf staticfiles .pytest_cache
