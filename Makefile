# osbp — the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app osbp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev translations vendor lint format messages clean audit

# Two stamps: what running needs (requirements.txt, for `make run`) and the development tools on top (pytest, ruff,
# Playwright… for `make test`). A first `make run` installs no test tool.
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

$(RUNTIME): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV): $(RUNTIME) requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(RUNTIME) translations vendor

install-dev: $(DEV) translations vendor

# Browser assets from npm (package-lock.json pins them): the Socket.IO client, served from /static/vendor/.
VENDOR := osbp/static/vendor
vendor: $(VENDOR)/socket.io.min.js

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/socket.io.min.js: node_modules/.installed
	mkdir -p $(VENDOR)
	cp node_modules/socket.io-client/dist/socket.io.min.js node_modules/socket.io-client/dist/socket.io.min.js.map $(VENDOR)/

translations: $(RUNTIME)
	$(BIN)/pybabel compile -d translations -D messages

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

# SQLite always; PostgreSQL too when OSBP_TEST_DATABASE_URL is set (CI sets it). Then lint and the catalog check.
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OSBP_TEST_DATABASE_URL= $(BIN)/python -m pytest -q
	@if [ -n "$$OSBP_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL: $$OSBP_TEST_DATABASE_URL"; \
	  $(BIN)/python -m pytest -q || exit 1; \
	fi

# Extract strings and merge them into every catalog (fr, rw, sw: translate, then `make translations`).
messages: $(RUNTIME)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o translations/messages.pot --no-location --sort-output --project osbp --version 0.1.0 \
	  --copyright-holder "osbp contributors" .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching --ignore-pot-creation-date

# Known vulnerabilities in the pinned dependencies (pip-audit, installed on demand in its own venv so that it pins
# nothing of ours). It needs the network to reach its advisory source, so it is not part of `make test`.
PIP_AUDIT_VERSION ?= 2.10.1
audit:
	$(PYTHON) -m venv .venv-audit
	.venv-audit/bin/pip install --quiet pip-audit==$(PIP_AUDIT_VERSION)
	.venv-audit/bin/pip-audit --strict -r requirements.txt -r requirements-dev.txt

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .venv-audit instance .pytest_cache .ruff_cache node_modules $(VENDOR)
