# axiswatch: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test lint bench clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes; torch==2.13.0 resolves to the CPU wheel on disk.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/axiswatch demo

test: install
	$(BIN)/ruff check flows models warehouse tests
	$(BIN)/mypy flows models warehouse
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check flows models warehouse tests
	$(BIN)/ruff format --check flows models warehouse tests
	$(BIN)/mypy flows models warehouse

bench: install
	$(BIN)/axiswatch bench --json var/bench.json

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
