# The two commands: `make run` (a running site on the embedded defaults) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run test lint format venv assets translations db seed worker clean extract-messages bench browser

run: venv assets translations db seed
	@scripts/run.sh

test: venv assets translations browser
	@scripts/test.sh

# Debian's Chromium and Chinese fonts for the browser journeys (tests/browser); quiet when installed.
browser:
	@scripts/ensure-browser.sh

# The benchmark harness (bench/README.md): needs PostgreSQL at BENCH_DATABASE_URL; not part of `make test`.
bench: venv translations
	@$(BIN)/python -m bench.harness

lint: venv
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

# Browser libraries (ECharts) from the npm registry, served by the site itself from core/static/vendor/
# (git-ignored): pages never load anything from another host.
VENDOR := core/static/vendor
assets: $(VENDOR)/echarts.min.js

$(VENDOR)/echarts.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts.min.js

# Compiled catalogs are build output (not committed): compile them from the .po files.
translations: venv
	@$(BIN)/pybabel compile -d translations >/dev/null

extract-messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output core shop procurement search alerts
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

db: venv
	$(BIN)/flask db upgrade

seed: venv
	$(BIN)/flask demo seed

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules $(VENDOR)
