# The usual tasks. `make serve` and `make test` each set up the virtual environment first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: serve test test-sqlite test-postgres venv bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,postgres]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)  ## the host with the plugin on SQLite with demo data at http://127.0.0.1:8080
	$(PY) -m host serve

test: test-sqlite test-postgres  ## the whole suite on SQLite, then again on PostgreSQL (what CI runs)

test-sqlite: $(STAMP)  ## in-process and real-server tests on SQLite (the cluster test always uses PostgreSQL)
	$(PY) -m pytest -q

test-postgres: $(STAMP)  ## the in-process tests again on PostgreSQL (HOST_TEST_POSTGRES, default local postgres)
	HOST_TEST_DATABASE=postgresql $(PY) -m pytest -q -m "not server"

bench: $(STAMP)  ## the benchmarks quoted in the README (bench_http needs wrk and PostgreSQL)
	$(PY) bench/bench_auth.py
	$(PY) bench/bench_restrictions.py
	$(PY) bench/bench_filter.py
	$(PY) bench/bench_http.py

lint: $(STAMP)
	$(PY) -m pip install -q ruff && $(VENV)/bin/ruff check host plugins tests bench

clean:
	rm -rf $(VENV) data
