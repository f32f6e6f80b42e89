# The usual tasks. `make serve` and `make test` each set up the virtual environment first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: serve test venv bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,postgres]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)  ## the host with the plugin on SQLite with demo data at http://127.0.0.1:8080
	$(PY) -m host serve

test: $(STAMP)  ## the whole test suite (in-process WebTest tests and real-server tests)
	$(PY) -m pytest -q

bench: $(STAMP)  ## token-verification benchmark; prints the figures quoted in the README
	$(PY) bench/bench_auth.py

lint: $(STAMP)
	$(PY) -m pip install -q ruff && $(VENV)/bin/ruff check host plugins tests bench

clean:
	rm -rf $(VENV) data
