# Followup: `make run` serves on the embedded SQLite, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What serving needs (make run), and that plus the test, lint and bench extras (everything else).
SERVE_STAMP := $(VENV)/.installed-serve
STAMP := $(VENV)/.installed
# Quiet: a newcomer sees the address to open, not installer chatter (errors still show).
PIP := $(BIN)/pip --quiet --quiet --disable-pip-version-check

.PHONY: run test timeshift lint format openapi migrate screenshots clean bench bench-compare image

$(SERVE_STAMP): pyproject.toml constraints.txt
	@echo "Installing Followup into $(VENV) (a minute or two, once)…"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip
	@$(PIP) install -c constraints.txt -e .
	@touch $(SERVE_STAMP)

$(STAMP): $(SERVE_STAMP)
	@echo "Installing the test, lint and bench tools into $(VENV)…"
	@$(PIP) install -c constraints.txt -e '.[test,dev,bench]'
	@touch $(STAMP)

run: $(SERVE_STAMP)
	@$(BIN)/followup serve

migrate: $(SERVE_STAMP)
	$(BIN)/followup migrate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/actionlint

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest

# The suite with the machine's clock a year ahead, then a year back (Debian's faketime): no
# test may depend on the day it runs. TIMESHIFT_TESTS narrows it to some test files.
TIMESHIFT_TESTS ?=
timeshift: $(STAMP)
	@command -v faketime >/dev/null || { echo "needs Debian's faketime (apt-get install faketime)"; exit 2; }
	faketime -f '+365d' $(BIN)/pytest $(TIMESHIFT_TESTS)
	faketime -f '-365d' $(BIN)/pytest $(TIMESHIFT_TESTS)

openapi: $(STAMP)
	$(BIN)/followup openapi > openapi.json

# PNGs of the main pages (docs/screenshots/, used by the README): a live server on a
# throwaway database, photographed by Debian's chromium (/usr/bin/chromium).
screenshots: $(STAMP)
	$(BIN)/python -m tests.browser.screenshots

# The product against a raw Starlette + asyncpg baseline, as ratios (bench/run.py;
# docs/performance.md). Postgres on 127.0.0.1:5432 (BENCH_PG_URL), its own database;
# BENCH_SIZE=S|M|L. bench-compare: the latest result at L against the latest at M (T5).
BENCH_SIZE ?= M
bench: $(STAMP)
	BENCH_SIZE=$(BENCH_SIZE) $(BIN)/python -m bench.run

bench-compare: $(STAMP)
	$(BIN)/python -m bench.compare

# The Docker image, built with podman from Debian's packages where no registry is reachable
# (docker/build-local.sh; needs root, podman and debootstrap). Not part of `make test`.
image:
	sh docker/build-local.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
