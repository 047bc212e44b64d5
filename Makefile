# Oaken Spirits data platform. `make demo` and `make test` work on a fresh machine
# with Python 3.11+ and make: set-up is included.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: setup bqemulator chromium demo test test-fast bench lint format clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --inexact --quiet --compile-bytecode
	@touch $@

# The BigQuery emulator for the BigQuery test tier (tests/integration/test_bigquery.py),
# in a virtualenv of its own: bqemulator pins another DuckDB than the project's, and its
# pytest plugin must stay out of .venv. DuckDB 1.5.5 and its spatial extension come from
# PyPI because bqemulator 1.4.0 downloads the extension at start-up otherwise (offline
# here); numpy is an undeclared dependency (docs/bigquery.md, "What has been tested, and how").
# Every package of it is pinned in tests/bqemulator/requirements.txt.
BQEMU_VENV := .venv-bqemu

bqemulator: $(BQEMU_VENV)/.installed

$(BQEMU_VENV)/.installed: tests/bqemulator/requirements.txt
	@test -x $(BQEMU_VENV)/bin/python || $(PYTHON) -m venv $(BQEMU_VENV)
	$(BQEMU_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r tests/bqemulator/requirements.txt
	$(BQEMU_VENV)/bin/python -c "from duckdb_extensions import import_extension; import_extension('spatial')"
	@touch $@

demo: setup
	$(BIN)/oaken demo

# the whole suite (about 28 minutes here), then the 15 slowest tests; two pytest-xdist workers, a test file each
# at a time (module-scoped warehouses and brokers are built once per file)
PYTEST_WORKERS ?= 2
test: setup bqemulator chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15

# the unit tests alone: no server, broker or warehouse (about a minute)
test-fast: setup
	$(BIN)/python -m pytest tests/unit

# Debian's Chromium for the browser tests and the dashboard benchmark (no test installs
# a system package: they fail in CI, and skip elsewhere, when it is missing)
chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

bench: setup chromium
	$(BIN)/python bench/run.py

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/sqlfluff lint transform

format: setup
	$(BIN)/ruff format src tests bench

clean:
	rm -rf .oaken .pytest_cache .ruff_cache
