# The two set-up commands of the README: `make serve` and `make test`.
# Each creates .venv on first use and installs the pinned dependencies.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint ci
$(VENV)/.installed: pyproject.toml client/pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt --config-settings editable_mode=compat -e ./client -e '.[dev]'
	@# a venv made before the client split: uninstalling the old server dist removed bin/mstack
	test -x $(BIN)/mstack || $(BIN)/pip install --quiet --no-deps --force-reinstall --config-settings editable_mode=compat -e ./client
	touch $@

serve: $(VENV)/.installed
	$(BIN)/mstack serve

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n 2

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

ci:
	bash .ci/run
