# Turnout: make run starts the server, make test runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 4566
DATA_DIR ?= .turnout

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/turnout serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

# The AWS SDK for JavaScript v3 suite (tests/js, run by tests/e2e/test_js_sdk.py): its lockfile's exact modules.
tests/js/node_modules/.installed: tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	@touch $@

test: $(STAMP) tests/js/node_modules/.installed
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests tools $(wildcard bench)
	$(VENV)/bin/mypy

$(VENV)/.bench-installed: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@touch $@

bench: $(VENV)/.bench-installed
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .turnout .pytest_cache .mypy_cache .ruff_cache
