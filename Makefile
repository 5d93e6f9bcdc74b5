# The two set-up commands of the README: `make serve` and `make test`.
# Each creates .venv on first use and installs the pinned dependencies.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint ci
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt --config-settings editable_mode=compat -e '.[dev]'
	touch $@

serve: $(VENV)/.installed
	$(BIN)/mstack serve

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n 2

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

ci:
	bash .ci/run
