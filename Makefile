# Warroom: `make run` starts it with demo data; `make test` runs every check. Both set themselves up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python >= 3.12 on PATH (a committed .python-version makes pyenv pick 3.13 here).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.14 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; \
	then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_SECRET := WARROOM_SECRET_KEY=test-only-secret-key-that-is-long-enough-for-django-checks-0123456789
# Each suite has its own data dir, so the two can run at once.
SQLITE_SUITE := WARROOM_DATABASE_URL= WARROOM_DATA_DIR=$(CURDIR)/.pytest-data/sqlite $(TEST_SECRET) $(BIN)/pytest -q --durations=15
POSTGRES_SUITE := WARROOM_DATABASE_URL="$$WARROOM_TEST_DATABASE_URL" WARROOM_DATA_DIR=$(CURDIR)/.pytest-data/postgres \
	$(TEST_SECRET) $(BIN)/pytest -q --durations=15
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)
ALERTMANAGER ?= $(shell command -v prometheus-alertmanager)

.PHONY: help run test lint typecheck pytest pytest-sqlite pytest-postgres browser clean bench

help:
	@echo "make run    install into .venv and start Warroom with demo data on http://$(HOST):$(PORT)"
	@echo "make test   install test tools and run ruff, mypy and the whole suite (SQLite, and PostgreSQL"
	@echo "            when WARROOM_TEST_DATABASE_URL is set)"
	@echo "make lint   ruff (lint and format check) and mypy only"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Warroom needs Python 3.12 or newer on PATH (python3.12, python3.13 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/warroom serve --demo --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

browser:
	@if [ -z "$(CHROMIUM)" ]; then \
		echo "Chromium is missing: installing the Debian package (the console tests drive it)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
		else sudo apt-get install -y -q chromium >/dev/null; fi; \
	fi
	@if [ -z "$(ALERTMANAGER)" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Prometheus Alertmanager is missing: installing the Debian package (tests/alerts/test_real_alertmanager.py drives it)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y -q prometheus-alertmanager >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q prometheus-alertmanager >/dev/null; }; \
		else sudo apt-get install -y -q prometheus-alertmanager >/dev/null; fi \
		|| echo "Could not install prometheus-alertmanager: the real-Alertmanager test will be skipped"; \
	fi

pytest-sqlite: $(VENV)/.installed-test browser
	$(SQLITE_SUITE)

pytest-postgres: $(VENV)/.installed-test browser
	@if [ -n "$$WARROOM_TEST_DATABASE_URL" ]; then \
		echo "== the suite on PostgreSQL ($$WARROOM_TEST_DATABASE_URL)"; \
		$(POSTGRES_SUITE); \
	else echo "WARROOM_TEST_DATABASE_URL is not set: skipping the PostgreSQL run"; fi

# With WARROOM_TEST_DATABASE_URL set, the SQLite and PostgreSQL runs go at once (one computes while the other
# waits on PostgreSQL); each output line is prefixed with its suite, and both must pass.
test: lint $(VENV)/.installed-test browser
	@if [ -n "$$WARROOM_TEST_DATABASE_URL" ]; then \
		echo "== the suite on SQLite and on PostgreSQL ($$WARROOM_TEST_DATABASE_URL), both at once"; \
		( $(SQLITE_SUITE) 2>&1 | sed -u 's/^/[sqlite] /'; exit $${PIPESTATUS[0]} ) & sqlite=$$!; \
		( $(POSTGRES_SUITE) 2>&1 | sed -u 's/^/[postgres] /'; exit $${PIPESTATUS[0]} ) & postgres=$$!; \
		wait $$sqlite; sqlite_rc=$$?; wait $$postgres; postgres_rc=$$?; \
		echo "== SQLite suite: exit $$sqlite_rc; PostgreSQL suite: exit $$postgres_rc"; \
		[ $$sqlite_rc = 0 ] && [ $$postgres_rc = 0 ]; \
	else \
		echo "WARROOM_TEST_DATABASE_URL is not set: the suite runs on SQLite only"; \
		$(SQLITE_SUITE); \
	fi

bench: $(VENV)/.installed-test
	$(BIN)/python bench/incidents_api.py

clean:
	rm -rf $(VENV) .pytest-data .mypy_cache .ruff_cache .pytest_cache
