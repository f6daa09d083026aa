# axiswatch: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# pytest processes (pytest-xdist; one test file stays in one process, with its servers)
TEST_WORKERS ?= 2

.PHONY: install system-deps demo test lint bench clean

install: $(STAMP) system-deps

# Debian packages the tests and the report need: Chromium (browser checks) and a CJK font
# (Korean and Chinese in charts and HTML), and PostgreSQL 15 (the scale-out tests and bench start
# their own throwaway server). Installed only when missing, and only as root.
SYSTEM_PACKAGES := chromium fonts-noto-cjk postgresql
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "note: missing Debian packages ($$missing); install them as root for the browser and font checks" >&2; \
	  fi; \
	fi

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
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25

lint: install
	$(BIN)/ruff check flows models warehouse tests
	$(BIN)/ruff format --check flows models warehouse tests
	$(BIN)/mypy flows models warehouse

bench: install
	$(BIN)/axiswatch bench --json var/bench.json

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
