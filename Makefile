# Oaken Spirits data platform. `make demo` and `make test` work on a fresh machine
# with Python 3.11+ and make: set-up is included.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: setup chromium demo test test-fast bench lint format clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --inexact --quiet --compile-bytecode
	@touch $@

demo: setup
	$(BIN)/oaken demo

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

# Debian's Chromium for the dashboard's browser benchmark (the browser tests install it
# themselves, and skip with the reason when they cannot)
chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

bench: setup chromium
	$(BIN)/python bench/run.py

lint: setup
	$(BIN)/ruff check src tests bench

format: setup
	$(BIN)/ruff format src tests bench

clean:
	rm -rf .oaken .pytest_cache .ruff_cache
