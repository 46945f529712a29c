# Two commands set everything up on a fresh machine with only Python: `make run`, `make test`.
PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
ROWS        ?= 500000
SEED        ?= 42
SEGMENTS_DB ?= $(CURDIR)/warehouse/segments.duckdb
DOCS_PORT   ?= 8080
SUPERSET_PORT ?= 8088
SUPERSET_VENV := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed
# ENGINE=spark builds on Apache Spark (docs/spark.md); its ~500 MB extra is installed on first use.
ENGINE      ?= duckdb
SPARK_STAMP := $(VENV)/.spark-installed
export SEGMENTS_DB := $(abspath $(SEGMENTS_DB))

.PHONY: setup run publish test test-fast lint docs-numbers query summary report docs dashboard bench chromium clean help

help:
	@echo "make run    build the segments on the embedded sample (ROWS=$(ROWS), SEED=$(SEED))"
	@echo "make run ENGINE=spark   the same on a local Apache Spark (docs/spark.md; installs pyspark on first use)"
	@echo "make setup  the environment and the sample only, for running dbt yourself (README \"Quick start\")"
	@echo "make publish  publish for BI what your last full \`dbt build\` wrote, if every node passed"
	@echo "make run DATA=your.csv [COLUMNS=customer_id=cust_no,...] [DATE_FORMAT=%d/%m/%Y]   on your own file"
	@echo "make run DATA=... CUSTOMERS=crm.csv [CUSTOMER_COLUMNS=customer_id=crm_no] [CLUSTER_ON_ATTRIBUTES=1]   profile (and optionally cluster) by customer attributes"
	@echo "make test   run every test (lint, pytest, dbt data and unit tests): what CI runs"
	@echo "make test-fast  the inner loop: package unit tests and one small dbt build (about 2 minutes)"
	@echo "make lint   ruff (Python) and sqlfluff with the dbt templater (SQL)"
	@echo "make report render the HTML report (warehouse/segments_report.html) from the built warehouse"
	@echo "make bench  time dbt build vs pandas vs the DuckDB floor (SIZES=\"$(SIZES)\")"
	@echo "make bench ENGINE=spark  time the Spark build beside DuckDB's at 1M lines (bench/results/engines.csv)"
	@echo 'make query SQL="select * from marts.segment_profiles"'
	@echo "make docs   dbt docs (lineage, every mart and column) at http://127.0.0.1:$(DOCS_PORT)"
	@echo "make dashboard  Apache Superset with the dashboards on the published data at http://127.0.0.1:$(SUPERSET_PORT)"

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
unexport DATA COLUMNS DATE_FORMAT SQL CUSTOMERS CUSTOMER_COLUMNS
# An exported COLUMNS is the terminal's width (shells and test runners set it), not a column
# mapping: only `make run COLUMNS=...` sets one.
ifeq ($(origin COLUMNS),environment)
COLUMNS :=
endif

# Apache Spark (dbt-spark + pyspark, the .[spark] extra): only when ENGINE=spark or `make test`.
$(SPARK_STAMP): $(STAMP)
	@echo "==> installing the Spark engine into $(VENV) (first use only, about a minute; ~500 MB)"
	@$(BIN)/python -m pip install -c constraints.txt -e '.[spark]' > $(VENV)/install-spark.log 2>&1 \
		|| { tail -30 $(VENV)/install-spark.log; echo "error: installing the Spark engine failed (log: $(VENV)/install-spark.log)"; exit 1; }
	@touch $@

# Your own file: make run DATA=path [COLUMNS="customer_id=cust_no,..."] [DATE_FORMAT="%d/%m/%Y"]
run: $(STAMP) $(if $(filter spark,$(ENGINE)),$(SPARK_STAMP))
	@$(BIN)/python -m rfm_segments run --engine $(ENGINE) --rows $(ROWS) --seed $(SEED) \
		$(if $(value DATA),--data $(call shell_word,DATA)) $(if $(value COLUMNS),--columns $(call shell_word,COLUMNS)) \
		$(if $(value DATE_FORMAT),--date-format $(call shell_word,DATE_FORMAT)) \
		$(if $(value CUSTOMERS),--customers $(call shell_word,CUSTOMERS)) \
		$(if $(value CUSTOMER_COLUMNS),--customer-columns $(call shell_word,CUSTOMER_COLUMNS)) \
		$(if $(filter 1 true yes,$(CLUSTER_ON_ATTRIBUTES)),--cluster-on-attributes)

# For people who run dbt themselves: the environment and the sample plain `dbt build` reads.
setup: $(STAMP)
	@$(BIN)/python -m rfm_segments sample
	@echo "==> ready: . $(BIN)/activate && cd dbt_project && dbt build   (then: make publish, for BI)"

# Publishes for BI what the last full `dbt build` wrote, if every node passed (docs/dbt.md).
publish: $(STAMP)
	@$(BIN)/python -m rfm_segments publish --dbt-project $(CURDIR)/dbt_project

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

# The counts and the published tables in docs/marts.md, written from dbt's manifest, and the numbers
# marked in docs/*.md, from their one definition (tests check both).
docs-numbers: $(STAMP)
	@$(BIN)/python -m rfm_segments.project_facts

# The docs catalog reads the built warehouse, so build it first if there is none.
docs: $(STAMP)
	@test -f "$(SEGMENTS_DB)" || $(MAKE) --no-print-directory run
	@cd dbt_project && DBT_PROFILES_DIR=$(CURDIR) ../$(BIN)/dbt docs generate --quiet
	@echo "==> dbt docs at http://127.0.0.1:$(DOCS_PORT) (Ctrl-C stops; DOCS_PORT=... to move it)"
	@cd dbt_project && DBT_PROFILES_DIR=$(CURDIR) ../$(BIN)/dbt docs serve --port $(DOCS_PORT) --no-browser

# Superset has its own virtualenv: its pins (Flask, SQLAlchemy 1.4, pandas 2.1) clash with the project's.
$(SUPERSET_STAMP): bi/superset/requirements.txt bi/superset/constraints.txt
	@echo "==> setting up $(SUPERSET_VENV) for Apache Superset (first run only, about 2 minutes)"
	@test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	@start=$$(date +%s); $(SUPERSET_VENV)/bin/python -m pip install --disable-pip-version-check \
		-r bi/superset/requirements.txt -c bi/superset/constraints.txt > $(SUPERSET_VENV)/install.log 2>&1 \
		|| { tail -30 $(SUPERSET_VENV)/install.log; echo "error: installing Superset failed (log: $(SUPERSET_VENV)/install.log)"; exit 1; }; \
		echo "    installed in $$(( $$(date +%s) - start )) s" | tee -a $(SUPERSET_VENV)/install.log
	@touch $@

# Superset on the published copy; its metadata (superset.db, password) sits in warehouse/superset/.
dashboard: $(STAMP) $(SUPERSET_STAMP)
	@test -f "$(SEGMENTS_DB)" || $(MAKE) --no-print-directory run
	@$(BIN)/python -m rfm_segments.superset_dashboards serve --port $(SUPERSET_PORT) --superset $(SUPERSET_VENV)/bin/superset

test: $(STAMP) chromium $(SUPERSET_STAMP) $(SPARK_STAMP) lint
	@$(BIN)/python -m pytest

# The inner loop (docs/testing.md): the package's unit tests, and the tests that share one small
# `dbt build` (which runs every dbt data and unit test).
test-fast: $(STAMP)
	@$(BIN)/python -m pytest -m "unit or fast"

# sqlfluff compiles the models with dbt into a throwaway warehouse; the staging model reads the
# input's header, so it gets a one-line file. A model dbt cannot compile is skipped by sqlfluff
# with a warning only: that fails lint here.
LINT_HEADER := InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
lint: $(STAMP)
	@echo "==> ruff (Python)"
	@$(BIN)/ruff check .
	@echo "==> sqlfluff (SQL, dbt templater, dbt_project/.sqlfluff)"
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		printf '$(LINT_HEADER)\n536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n' > "$$tmp/raw.csv" && \
		cd dbt_project && SEGMENTS_DB="$$tmp/lint.duckdb" SEGMENTS_RAW="$$tmp/raw.csv" DBT_TARGET_PATH="$$tmp/target" \
		DBT_LOG_PATH="$$tmp/logs" ../$(BIN)/sqlfluff lint --processes 2 models tests > "$$tmp/out" 2>&1; \
		status=$$?; grep -v -e '^=== \[dbt templater\]' -e 'resource_tracker' "$$tmp/out"; \
		if grep -q 'Skipped file' "$$tmp/out"; then echo "error: sqlfluff could not compile a file (above)"; exit 1; fi; \
		exit $$status

# Benchmark (not a test): see README "Performance". Generated files are cached in data/bench/.
# ENGINE=spark: the Spark build (local, and through a local Spark Connect server) beside DuckDB's, at 1M lines.
SIZES       ?= $(if $(filter spark,$(ENGINE)),1000000,1000000 10000000)
bench: $(STAMP) $(if $(filter spark,$(ENGINE)),$(SPARK_STAMP))
	@$(BIN)/python bench/run_bench.py --engine $(ENGINE) --sizes $(SIZES)

clean:
	rm -rf warehouse data dbt_project/target dbt_project/logs
