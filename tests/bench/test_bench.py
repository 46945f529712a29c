"""The benchmark script works end to end on a tiny input and its equality check bites.

No timings are asserted: this only proves `make bench` runs, records and compares.
"""
from __future__ import annotations

import csv
import subprocess
import sys

import duckdb
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import run_bench  # noqa: E402


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run_bench.py"), "--sizes", "20000",
         "--kselect-customers", "3000", "--data-dir", str(root / "data"),
         "--work-dir", str(root / "work"), "--results-dir", str(root / "results"), "--keep-work"],
        cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root, result.stdout


def test_bench_runs_all_three_and_they_agree(bench_run):
    root, out = bench_run
    assert "check: ours = floor: " in out and "notebook = floor: " in out and "pandas = floor: " in out
    for step in ("ours: dbt build", "floor: one DuckDB query", "pandas: the notebook way",
                 "fixed costs: dbt parse", "warm (partial parsing)", "Python step alone",
                 "run: the whole `make run`", "notebook: pandas read, clean, RFM, tiers, one K-Means fit"):
        assert step in out, step
    (row,) = csv.DictReader(open(root / "results" / "results.csv"))
    assert int(row["lines"]) == 20_000 and int(row["customers"]) > 0
    assert row["pandas_status"] == "ok" and int(row["kselect_customers"]) == 3_000
    for key in ("ours_wall_s", "ours_sql_models_s", "ours_python_s", "ours_tests_s", "ours_peak_mb",
                "floor_wall_s", "floor_query_s", "pandas_wall_s", "pandas_peak_mb", "dbt_parse_s", "dbt_parse_warm_s",
                "ours_over_floor", "pandas_over_ours", "memory_ours_over_pandas", "kselect_s",
                "run_wall_s", "run_peak_mb", "notebook_wall_s"):
        assert float(row[key]) > 0, key
    assert int(row["tests"]) >= 50  # every dbt data and unit test ran
    svg = (root / "results" / "results.svg").read_text()
    assert svg.startswith("<svg") and "20,000 lines" in svg


def test_equality_check_fails_loudly_on_one_wrong_tier(bench_run):
    root, _ = bench_run
    work = root / "work" / "20000"
    wrong = work / "wrong.parquet"
    with duckdb.connect() as con:
        con.execute(f"""
            COPY (SELECT * REPLACE (CASE WHEN customer_id = (SELECT min(customer_id) FROM '{work / "floor.parquet"}')
                                         THEN 'Platinum' || '?' ELSE tier END AS tier)
                  FROM '{work / "floor.parquet"}') TO '{wrong}' (FORMAT parquet)""")
    assert "customers equal" in run_bench.compare(work / "ours.duckdb", work / "floor.parquet", None)
    with pytest.raises(run_bench.BenchError, match="ours and the floor disagree: 0 customers in only one of them, 1 with"):
        run_bench.compare(work / "ours.duckdb", wrong, None)
