# Booster Track: the developer workflow. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run up test browser-deps docs-screenshot lint format bench bench-deps bench-quick clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## the whole platform on embedded defaults (SQLite under ./var, memory:// bus)
	$(BIN)/booster run

# `make up`: every API and worker as a process of its own (Procfile, run by honcho) on
# the local RabbitMQ and PostgreSQL, plus an SMTP sink that prints each mail. It creates
# the four databases if missing and migrates them first; Ctrl-C stops everything.
# Any of these can be set in the environment instead, e.g. `PORT_OFFSET=100 make up`
# serves on 8101..8104. (.env is docker compose's file: make up does not read it.)
# scripts/honcho_start.py is honcho with 30 s, not 5, for processes to stop.
UP_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432
up: export BOOSTER_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672//
up: export BOOSTER_REGISTRY_DATABASE_URL ?= $(UP_POSTGRES)/booster_registry
up: export BOOSTER_MENTORING_DATABASE_URL ?= $(UP_POSTGRES)/booster_mentoring
up: export BOOSTER_EVENTS_DATABASE_URL ?= $(UP_POSTGRES)/booster_events
up: export BOOSTER_NOTIFICATIONS_DATABASE_URL ?= $(UP_POSTGRES)/booster_notifications
up: export SMTP_PORT ?= 1025
up: export BOOSTER_SMTP_URL ?= smtp://127.0.0.1:$(SMTP_PORT)
up: export PORT_OFFSET ?= 0
up: $(STAMP)  ## every API and worker as separate processes on local RabbitMQ + PostgreSQL (honcho)
	$(BIN)/python scripts/create_databases.py
	$(BIN)/booster db upgrade all
	PATH="$(abspath $(BIN)):$$PATH" exec $(BIN)/python scripts/honcho_start.py start \
		--env /dev/null --procfile Procfile

test: $(STAMP) browser-deps  ## the test suite (unit, integration against RabbitMQ/PostgreSQL, e2e)
	$(BIN)/pytest $(PYTEST_ARGS)

# Debian's Chromium for the /docs browser test (tests/e2e/test_docs_browser.py) and
# scripts/docs_screenshot.py: installed when missing if we are root (CI is), else the
# test skips, or fails under BOOSTER_REQUIRE_SERVICES=1, saying how to install it.
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "browser-deps: installing Debian's chromium (for the /docs browser test)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || \
		{ echo "browser-deps: apt-get install chromium failed"; exit 1; }; \
	else \
		echo "browser-deps: no $(CHROMIUM) and not root: the /docs browser test will not run" \
			"(install it with: sudo apt-get install chromium)"; \
	fi

docs-screenshot: $(STAMP) browser-deps  ## regenerate docs/img/docs-swagger.png (the registry's /docs)
	$(BIN)/python scripts/docs_screenshot.py

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
