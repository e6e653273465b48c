# imsclinic — `make run` serves the demo clinic, `make test` runs the whole suite.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := DEBUG=1 $(PY) manage.py
STAMP := $(VENV)/.installed-$(shell cat uv.lock pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.8

.PHONY: help install run test lint bench load demo-codes

help:
	@echo "make run         set up everything and serve the demo clinic at http://127.0.0.1:8000"
	@echo "                 (PORT=8080 make run serves it on another port)"
	@echo "make test        set up everything and run the whole test suite"
	@echo "make lint        ruff, mypy and the import layers"
	@echo "make bench       run the benchmarks in bench/ and print figures"
	@echo "make load        load-test the whole app on PostgreSQL with locust (50 people, 180 s)"
	@echo "make demo-codes  print the current two-factor codes of the demo staff logins"

# The virtualenv is rebuilt only when pyproject.toml or uv.lock change.
$(STAMP):
	@python=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV) || exit 1; fi
	@$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv sync --frozen --inexact --python $(PY) --quiet
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

run: $(STAMP)
	@mkdir -p var
	@echo "make run: migrating the database and loading the demo clinic"
	@$(MANAGE) migrate --noinput -v 0
	@$(MANAGE) createcachetable
	@$(MANAGE) seed_demo
	@DEBUG=1 $(PY) scripts/serve.py

# Extra pytest arguments: make test ARGS="-k seed_demo"
test: $(STAMP)
	@scripts/test $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy imsclinic
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	@DEBUG=1 $(PY) -m bench

# LOAD_USERS, LOAD_SECONDS, LOAD_APPOINTMENTS, LOAD_DATABASE_URL: see docs/PERFORMANCE.md.
load: $(STAMP)
	@$(PY) -m bench.load

demo-codes: $(STAMP)
	@$(MANAGE) seed_demo --codes
