# hunter-console: every target sets itself up on a fresh machine (virtual environment, install).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run demo test bench snapshot-update clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run demo: install
	$(VENV)/bin/hunter-console demo

test: install
	$(PY) -m pytest

bench: install
	@for f in tests/benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

snapshot-update: install
	$(PY) -m pytest tests/tui --snapshot-update

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
