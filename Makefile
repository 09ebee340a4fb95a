# Booster Track: the developer workflow. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-deps bench-quick clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## the whole platform on embedded defaults (SQLite under ./var, memory:// bus)
	$(BIN)/booster run

test: $(STAMP)  ## the test suite (unit, integration against RabbitMQ/PostgreSQL, e2e)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff, the import contracts (pyproject's [tool.importlinter]) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-deps: $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[bench]'
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null || \
		(echo "bench: needs wrk (apt-get install wrk)"; exit 1)

bench: bench-deps  ## benchmarks against baselines measured in the same run (needs RabbitMQ, PostgreSQL, wrk)
	$(BIN)/python -m bench

bench-quick: bench-deps  ## the one-minute version (CI runs it so the harness cannot rot)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
