# Two commands set everything up on a fresh machine with only Python: `make run`, `make test`.
PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
ROWS        ?= 500000
SEED        ?= 42
SEGMENTS_DB ?= $(CURDIR)/warehouse/segments.duckdb
DOCS_PORT   ?= 8080
export SEGMENTS_DB := $(abspath $(SEGMENTS_DB))

.PHONY: run test query summary report docs bench chromium clean help

help:
	@echo "make run    build the segments on the embedded sample (ROWS=$(ROWS), SEED=$(SEED))"
	@echo "make run DATA=your.csv [COLUMNS=customer_id=cust_no,...] [DATE_FORMAT=%d/%m/%Y]   on your own file"
	@echo "make test   run every test (pytest, dbt data and unit tests)"
	@echo "make report render the HTML report (warehouse/segments_report.html) from the built warehouse"
	@echo "make bench  time dbt build vs pandas vs the DuckDB floor (SIZES=\"$(SIZES)\")"
	@echo 'make query SQL="select * from marts.segment_profiles"'
	@echo "make docs   dbt docs (lineage, every mart and column) at http://127.0.0.1:$(DOCS_PORT)"

# The environment is rebuilt only when the dependencies change, so later runs start in seconds.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> setting up $(VENV) (first run only)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -c constraints.txt -e '.[test]' > $(VENV)/install.log 2>&1 \
		|| { tail -30 $(VENV)/install.log; echo "error: installing dependencies failed (log: $(VENV)/install.log)"; exit 1; }
	@touch $@

# A user's value, byte for byte, as one shell word: $(value) stops make expanding $ (and running
# $(shell ...)), single quotes stop the shell expanding $, backticks, quotes and spaces.
shell_word = '$(subst ','\'',$(value $(1)))'
# Make would expand them to put them in every recipe's environment (running a $(shell ...)).
unexport DATA COLUMNS DATE_FORMAT SQL

# Your own file: make run DATA=path [COLUMNS="customer_id=cust_no,..."] [DATE_FORMAT="%d/%m/%Y"]
run: $(STAMP)
	@$(BIN)/python -m rfm_segments run --rows $(ROWS) --seed $(SEED) \
		$(if $(value DATA),--data $(call shell_word,DATA)) $(if $(value COLUMNS),--columns $(call shell_word,COLUMNS)) \
		$(if $(value DATE_FORMAT),--date-format $(call shell_word,DATE_FORMAT))

summary: $(STAMP)
	@$(BIN)/python -m rfm_segments summary

report: $(STAMP)
	@$(BIN)/python -m rfm_segments report

# The report's browser test drives Debian's Chromium (never a downloaded browser build).
chromium:
	@test -x /usr/bin/chromium || { echo "==> installing Debian's chromium for the report's browser test"; \
		apt-get update > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium > /dev/null; }

query: $(STAMP)
	@$(BIN)/python -m rfm_segments query $(call shell_word,SQL)

# The docs catalog reads the built warehouse, so build it first if there is none.
docs: $(STAMP)
	@test -f "$(SEGMENTS_DB)" || $(MAKE) --no-print-directory run
	@cd dbt_project && DBT_PROFILES_DIR=$(CURDIR) ../$(BIN)/dbt docs generate --quiet
	@echo "==> dbt docs at http://127.0.0.1:$(DOCS_PORT) (Ctrl-C stops; DOCS_PORT=... to move it)"
	@cd dbt_project && DBT_PROFILES_DIR=$(CURDIR) ../$(BIN)/dbt docs serve --port $(DOCS_PORT) --no-browser

test: $(STAMP) chromium
	@$(BIN)/python -m pytest

# Benchmark (not a test): see README "Performance". Generated files are cached in data/bench/.
SIZES       ?= 1000000 10000000
bench: $(STAMP)
	@$(BIN)/python bench/run_bench.py --sizes $(SIZES)

clean:
	rm -rf warehouse data dbt_project/target dbt_project/logs
