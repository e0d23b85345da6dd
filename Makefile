# The two commands: `make run` (a running site on the embedded defaults) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run test lint format venv translations db seed worker clean extract-messages

run: venv translations db seed
	@scripts/run.sh

test: venv translations
	@scripts/test.sh

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
	rm -rf $(VENV) instance .pytest_cache
