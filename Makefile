# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup system-deps services demo test lint bench coverage-page clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

# The tests also cover the optional C MySQL driver (mysqlclient), which builds against libmariadb-dev.
$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/pip install -q -e '.[dev,fast-mysql]'
	touch $@

system-deps:
	bash scripts/install-system-deps.sh

# The Docker engine for the container tests (the tests start every other server themselves).
services:
	bash scripts/start-services.sh

demo: setup
	$(BIN)/simdb demo

test: system-deps services setup $(BIN)/.installed-test
	$(BIN)/ruff check simdb tests bench scripts
	$(BIN)/mypy
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check simdb tests bench scripts
	$(BIN)/ruff format --check simdb
	$(BIN)/mypy

bench: setup system-deps
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

coverage-page: setup
	$(BIN)/python scripts/gen_coverage.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
