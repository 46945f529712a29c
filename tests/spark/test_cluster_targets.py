"""The cluster targets (docs/spark.md "Pointing it at a cluster"), against local servers started
from the pip pyspark (rfm_segments.spark_servers), on a 5,000-line file, compared with DuckDB:
- Spark Connect: `python -m rfm_segments run --engine spark` with SPARK_REMOTE (profile target
  spark_connect); dbt, the clustering step and publishing all talk to the server, whose catalog
  and warehouse hold the tables. The public marts it stages for BI (rfm_segments.spark_publish)
  must equal a DuckDB build. One server for the session (fixture connect_server, tests/conftest.py).
- Spark Thrift: plain `dbt build --target spark_thrift` of the SQL models up to RFM and tiers, with
  their data tests, read back over the Thrift protocol (PyHive).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import REPO, run_pipeline, shared_data

pytest.importorskip("pyspark", reason="the Spark extra is not installed (`make test` installs it)")
pytestmark = pytest.mark.spark

RUN_DATE = "2026-01-01"
LINES = 5_000
#: The staged public marts compared with DuckDB: exact columns, then doubles (to 1e-9 relative).
COMPARED = {
    "marts.data_quality_summary": (["outcome", "precedence", "rows"], ["share"]),
    "marts.customer_rfm": (["customer_id", "country", "first_purchase_date", "last_purchase_date", "recency_days",
                            "frequency", "monetary", "tenure_days", "average_order_value", "cancelled_value",
                            "as_of_date"], []),
    "marts.customer_rfm_tiers": (["customer_id", "r_score", "f_score", "m_score", "rfm_score", "tier_rank", "tier"], []),
    "marts.rfm_cut_points": (["metric", "drives"], ["p25", "p50", "p75"]),
    "clustering.customer_clusters": (["customer_id", "cluster_id", "segment_name", "segment_archetype"], []),
    "clustering.cluster_k_evaluation": (["k", "is_chosen", "choice_reason", "n_customers"], ["inertia", "silhouette"]),
    "marts.clean_transactions": (["invoice_id", "stock_code", "quantity", "unit_price", "amount", "invoiced_at",
                                  "customer_id"], []),
    "marts.rejected_transactions": (["reject_reason", "invoice_id", "stock_code", "quantity", "amount", "customer_id"], []),
}


@pytest.fixture(scope="module")
def raw_file(tmp_path_factory) -> Path:
    lines = shared_data("online_retail_sample.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("raw") / f"online_retail_{LINES}.csv"
    path.write_text("\n".join(lines[: LINES + 1]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def connect_run(tmp_path_factory, connect_server, raw_file):
    work = tmp_path_factory.mktemp("connect-run")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SPARK_REMOTE", connect_server.url)
        env.setenv("SEGMENTS_RUN_DATE", RUN_DATE)
        result = run_pipeline(work, "run", "--engine", "spark", "--data", str(raw_file))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return work, result.stdout


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory, raw_file) -> Path:
    from rfm_segments import ingest

    work = tmp_path_factory.mktemp("duckdb")
    db = work / "segments.duckdb"
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), SEGMENTS_DB=str(db), SEGMENTS_RUN_DATE=RUN_DATE,
               DBT_TARGET_PATH=str(work / "target"), DBT_LOG_PATH=str(work / "logs"))
    selected = [f"+{table.split('.')[1]}" for table in COMPARED]
    dbt = str(Path(sys.executable).with_name("dbt"))
    for args in (["seed"], ["run", "--vars", json.dumps(ingest.prepare(raw_file).dbt_vars), "--select", *selected]):
        result = subprocess.run([dbt, *args], cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-4000:]
    return db


def table(db: Path, name: str, columns: list[str]) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.sql(f"select {', '.join(columns)} from {name}").df()
    return frame.astype(object).where(frame.notna(), None)


def test_the_run_builds_through_the_connect_server(connect_run, connect_server):
    work, output = connect_run
    assert "Built on Spark (spark_connect)" in output or "Built RFM segments" in output
    assert f"Spark Connect server {connect_server.url}" in output
    # dbt and the clustering step wrote into the server's warehouse, not a local Spark's
    tables = connect_server.work / "tables"
    for folder in ("marts.db/customer_rfm", "clustering.db/customer_clusters", "intermediate.db/int_cluster_k_evaluation"):
        assert any((tables / folder).glob("*.parquet")), folder
    assert not (work / "spark" / "tables").exists()


@pytest.mark.parametrize("name", sorted(COMPARED))
def test_marts_staged_from_spark_equal_duckdb(connect_run, duckdb_build, name):
    work, _ = connect_run
    exact, close = COMPARED[name]
    on_spark = table(work / "spark" / "spark_marts.duckdb", name, exact + close)
    on_duckdb = table(duckdb_build, name, exact + close)
    assert len(on_spark) == len(on_duckdb) > 0
    key = lambda frame: sorted((tuple(row) for row in frame[exact].itertuples(index=False)), key=repr)  # noqa: E731
    assert key(on_spark) == key(on_duckdb), f"{name}: the engines differ"
    merged = on_spark.merge(on_duckdb, on=exact, suffixes=("_spark", "_duckdb"))
    for column in close:
        for a, b in zip(merged[f"{column}_spark"], merged[f"{column}_duckdb"]):
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-9), (name, column, a, b)


def test_staged_marts_keep_the_build_types_and_docs(connect_run, duckdb_build):
    work, _ = connect_run
    query = ("select data_type from duckdb_columns() where schema_name = 'marts' and table_name = 'clean_transactions' "
             "and column_name = 'invoiced_at'")
    for db in (work / "spark" / "spark_marts.duckdb", duckdb_build):
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute(query).fetchall() == [("TIMESTAMP",)], db
    with duckdb.connect(str(work / "spark" / "spark_marts.duckdb"), read_only=True) as con:
        ((comment,),) = con.execute("select comment from duckdb_tables() where table_name = 'customer_rfm'").fetchall()
    assert comment and "customer" in comment.lower()


def test_publication_only_when_every_public_mart_was_built(connect_run):
    """A Spark build that lacks a public mart must not replace what BI reads; a whole one is published."""
    from rfm_segments import bi_registry

    work, output = connect_run
    with duckdb.connect(str(work / "spark" / "spark_marts.duckdb"), read_only=True) as con:
        staged = {f"{schema}.{name}" for schema, name in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
    public = {model.relation for model in bi_registry.public_models(work / "target")}
    assert staged <= public and set(COMPARED) <= staged
    serving = work / "serving" / "segments.duckdb"
    if staged == public:
        with duckdb.connect(str(serving), read_only=True) as con:
            published = {f"{s}.{t}" for s, t in con.execute("select table_schema, table_name from serving.publication").fetchall()}
        assert published == public and "Published for BI" in output
    else:
        assert not serving.exists()
        assert "Not published for BI" in output and all(name in output for name in public - staged)


@pytest.fixture(scope="module")
def thrift_build(tmp_path_factory, raw_file):
    from rfm_segments import ingest, spark_servers

    work = tmp_path_factory.mktemp("thrift")
    server = spark_servers.start("thrift", work / "server")
    try:
        env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), SEGMENTS_RUN_DATE=RUN_DATE, SEGMENTS_SPARK_THRIFT_PORT=str(server.port),
                   DBT_TARGET_PATH=str(work / "target"), DBT_LOG_PATH=str(work / "logs"))
        dbt = str(Path(sys.executable).with_name("dbt"))
        result = subprocess.run([dbt, "build", "--target", "spark_thrift", "--vars", json.dumps(ingest.prepare(raw_file).dbt_vars),
                                 "--select", "+customer_rfm_tiers", "+customer_rfm", "--indirect-selection", "cautious"],
                                cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-4000:]
        from pyhive import hive

        with hive.connect(host="localhost", port=server.port) as con:
            cursor = con.cursor()
            cursor.execute("select customer_id, recency_days, frequency, cast(monetary as string), tier "
                           "from marts.customer_rfm join marts.customer_rfm_tiers using (customer_id)")
            yield result.stdout, sorted(cursor.fetchall())
    finally:
        server.stop()


def test_dbt_builds_and_tests_through_thrift(thrift_build, duckdb_build):
    output, on_thrift = thrift_build
    assert "ERROR=0" in output and " PASS " in output  # the data and unit tests ran on the Thrift server
    with duckdb.connect(str(duckdb_build), read_only=True) as con:
        on_duckdb = sorted(con.execute("select customer_id, recency_days, frequency, cast(monetary as varchar), tier "
                                       "from marts.customer_rfm join marts.customer_rfm_tiers using (customer_id)").fetchall())
    assert len(on_thrift) > 100
    assert on_thrift == on_duckdb
