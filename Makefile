# Two commands set everything up on a fresh machine with only Python: `make run`, `make test`.
PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
ROWS        ?= 500000
SEED        ?= 42
SEGMENTS_DB ?= $(CURDIR)/warehouse/segments.duckdb
export SEGMENTS_DB := $(abspath $(SEGMENTS_DB))

.PHONY: run test query summary clean help bench

help:
	@echo "make run    build the segments on the embedded sample (ROWS=$(ROWS), SEED=$(SEED))"
	@echo "make test   run every test (pytest, dbt data and unit tests)"
	@echo "make bench  time dbt build vs pandas vs the DuckDB floor (SIZES=\"$(SIZES)\")"
	@echo 'make query SQL="select * from marts.segment_profiles"'

# The environment is rebuilt only when the dependencies change, so later runs start in seconds.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> setting up $(VENV) (first run only)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -c constraints.txt -e '.[test]' > $(VENV)/install.log 2>&1 \
		|| { tail -30 $(VENV)/install.log; echo "error: installing dependencies failed (log: $(VENV)/install.log)"; exit 1; }
	@touch $@

run: $(STAMP)
	@$(BIN)/python -m rfm_segments run --rows $(ROWS) --seed $(SEED)

summary: $(STAMP)
	@$(BIN)/python -m rfm_segments summary

query: $(STAMP)
	@$(BIN)/python -m rfm_segments query "$(SQL)"

test: $(STAMP)
	@$(BIN)/python -m pytest

# Benchmark (not a test): see README "Performance". Generated files are cached in data/bench/.
SIZES       ?= 1000000 10000000
bench: $(STAMP)
	@$(BIN)/python bench/run_bench.py --sizes $(SIZES)

clean:
	rm -rf warehouse data dbt_project/target dbt_project/logs
