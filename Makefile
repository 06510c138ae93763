# Turnout: make run starts the server, make test runs the suite, make lock upgrades the pinned dependencies.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 4566
DATA_DIR ?= .turnout
# The environments are built from these locks (exact versions and hashes); `make lock` rewrites them.
LOCK := requirements.txt
BENCH_LOCK := requirements-bench.txt
UV := uv==0.13.9
COMPILE = $(VENV)/bin/uv pip compile --quiet --upgrade --universal --python-version 3.11 --generate-hashes \
	--no-header --annotation-style line

.PHONY: run test lint bench lock clean

# A venv of exactly the lock: hashes required, no resolution at install time, the project itself without deps.
define install_locked
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(1)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
endef

$(STAMP): pyproject.toml $(LOCK)
	$(call install_locked,$(LOCK))
	@rm -f $(VENV)/.bench-installed
	@touch $(STAMP)

# The package's bytecode, written here for every module that changed since: a process then loads it rather than
# compiling some 300 modules (a third of a second of every server start, and the suite starts hundreds), even where
# PYTHONDONTWRITEBYTECODE keeps Python from writing it itself. Cheap when nothing changed (a stat a module).
BYTECODE = $(PY) -m compileall -q src

run: $(STAMP)
	@$(BYTECODE)
	$(VENV)/bin/turnout serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

# The AWS SDK for JavaScript v3 suite (tests/js, run by tests/e2e/test_js_sdk.py): its lockfile's exact modules.
tests/js/node_modules/.installed: tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	@touch $@

# The suite runs in TEST_WORKERS processes (pytest-xdist): its end-to-end tests mostly wait on servers they start,
# so three share two cores well (10.5 min against 14.7 in one process on this project's 2-core machine).
TEST_WORKERS ?= 3
test: $(STAMP) tests/js/node_modules/.installed
	@$(BYTECODE)
	$(PY) -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests tools $(wildcard bench)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache  # the layers of pyproject.toml's [tool.importlinter]

$(VENV)/.bench-installed: $(STAMP) $(BENCH_LOCK)
	$(call install_locked,$(BENCH_LOCK))
	@touch $@

bench: $(VENV)/.bench-installed
	@$(BYTECODE)
	$(PY) bench/run.py $(BENCH_ARGS)

# Upgrade every pinned dependency (runtime, test, bench) to the newest release the ranges in pyproject.toml allow,
# then rebuild the bundled authorization reference and managed-policy catalogue from ../shared/data in the same
# step, so that the botocore models and the authorization data are always updated together.
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check '$(UV)'
	$(COMPILE) --extra test --extra bench pyproject.toml requirements-build.in -o $(BENCH_LOCK)
	$(COMPILE) --extra test pyproject.toml requirements-build.in -c $(BENCH_LOCK) -o $(LOCK)
	UV_CONSTRAINT=$(BENCH_LOCK) $(VENV)/bin/uv lock --quiet --python 3.11
	$(PY) tools/build_authz_reference.py
	$(PY) tools/build_catalogue.py
	@echo "lock updated: run 'make test' (a fresh venv: 'make clean test') and commit requirements*.txt, uv.lock and src/turnout/data/"

clean:
	rm -rf $(VENV) .turnout .pytest_cache .mypy_cache .ruff_cache tests/js/node_modules
