# axiswatch: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install fonts demo test lint bench clean

install: $(STAMP) fonts

# Korean and Chinese text in the report's charts and HTML needs a CJK font: Debian's fonts-noto-cjk
# (installed with apt-get when missing and we are root; otherwise a warning says how).
fonts:
	@if ! fc-list 2>/dev/null | grep -q 'Noto Sans CJK' && ! ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk \
	      || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk; }; \
	  else echo "warning: no CJK font; Korean/Chinese in report charts will show as boxes (sudo apt-get install -y fonts-noto-cjk)"; fi; \
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
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check flows models warehouse tests
	$(BIN)/ruff format --check flows models warehouse tests
	$(BIN)/mypy flows models warehouse

bench: install
	$(BIN)/axiswatch bench --json var/bench.json

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
