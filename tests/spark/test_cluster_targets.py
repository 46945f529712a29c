"""The cluster targets (docs/spark.md "Pointing it at a cluster"), against the session's local
Spark server (tests/spark/conftest.py: one JVM serving Spark Connect and Thrift):
- Spark Connect: `python -m rfm_segments run --engine spark` with SPARK_REMOTE (profile target
  spark_connect, fixture spark_run); dbt, the Python model steps and publishing all talk to the
  server, whose catalog and warehouse hold the tables. test_cross_engine.py compares what it
  published with DuckDB's; here: where the tables are, and what staging keeps.
- Spark Thrift: plain `dbt build --target spark_thrift` of the RFM marts with their data and unit
  tests, on the tables the Connect run made in the same catalog, read back over the Thrift
  protocol (PyHive) equal to DuckDB's.
- The publication gate: a Spark build that lacks a public mart does not replace what BI reads.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import REPO
from spark_inputs import RUN_DATE

pytest.importorskip("pyspark", reason="the Spark extra is not installed (`make test` installs it)")
pytestmark = pytest.mark.spark


def test_the_run_builds_through_the_connect_server(spark_run, spark_server):
    assert f"Spark Connect server {spark_server.connect_url}" in spark_run.output
    # dbt and the Python model steps wrote into the server's warehouse, not a local Spark's
    tables = spark_server.work / "tables"
    for folder in ("marts.db/customer_rfm", "clustering.db/customer_clusters", "intermediate.db/int_cluster_k_evaluation",
                   "marts.db/customer_segments", "marts.db/segment_attribute_profiles"):
        assert any((tables / folder).glob("*.parquet")), folder
    assert not (spark_run.work / "spark" / "tables").exists()


def test_staged_marts_keep_the_build_types_and_docs(spark_run, duckdb_run):
    query = ("select data_type from duckdb_columns() where schema_name = 'marts' and table_name = 'clean_transactions' "
             "and column_name = 'invoiced_at'")
    for db in (spark_run.work / "spark" / "spark_marts.duckdb", duckdb_run.serving_db):
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute(query).fetchall() == [("TIMESTAMP",)], db
    with duckdb.connect(str(spark_run.work / "spark" / "spark_marts.duckdb"), read_only=True) as con:
        ((comment,),) = con.execute("select comment from duckdb_tables() where table_name = 'customer_rfm'").fetchall()
    assert comment and "customer" in comment.lower()


def test_publication_waits_for_every_public_mart(spark_run, spark_server, tmp_path, monkeypatch):
    """A Spark build that lacks a public mart must not replace what BI reads: it names the mart."""
    from pyspark.sql import SparkSession

    from rfm_segments import bi_registry, spark_publish

    (built,) = [model for model in bi_registry.public_models(spark_run.target) if model.relation == "marts.rfm_cut_points"]
    lacking = dataclasses.replace(built, name="not_built_on_spark")
    monkeypatch.setattr(bi_registry, "public_models", lambda target: (built, lacking))
    spark = SparkSession.builder.remote(spark_server.connect_url).getOrCreate()
    try:
        outcome = spark_publish.publish_from_spark(spark, spark_run.target, tmp_path / "spark", tmp_path / "serving")
    finally:
        spark.stop()
    assert outcome.publication is None
    assert "Not published for BI" in outcome.why_not() and "marts.not_built_on_spark" in outcome.why_not()
    assert not (tmp_path / "serving" / "segments.duckdb").exists()
    with duckdb.connect(str(tmp_path / "spark" / "spark_marts.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.rfm_cut_points").fetchone()[0] > 0


@pytest.fixture(scope="module")
def thrift_build(tmp_path_factory, spark_server, spark_run, spark_raw_file):
    """`dbt build` of the RFM marts through Thrift, on what the Connect run left in the catalog."""
    from pyhive import hive

    from rfm_segments import ingest

    work = tmp_path_factory.mktemp("thrift")
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), SEGMENTS_RUN_DATE=RUN_DATE,
               SEGMENTS_SPARK_THRIFT_PORT=str(spark_server.port), DBT_TARGET_PATH=str(work / "target"),
               DBT_LOG_PATH=str(work / "logs"))
    env.pop("SPARK_REMOTE", None)
    dbt = str(Path(sys.executable).with_name("dbt"))
    result = subprocess.run([dbt, "build", "--target", "spark_thrift", "--vars", json.dumps(ingest.prepare(spark_raw_file).dbt_vars),
                             "--select", "customer_rfm", "customer_rfm_tiers"],
                            cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]
    with hive.connect(host="localhost", port=spark_server.port) as con:
        cursor = con.cursor()
        cursor.execute("select customer_id, recency_days, frequency, cast(monetary as string), tier "
                       "from marts.customer_rfm join marts.customer_rfm_tiers using (customer_id)")
        return result.stdout, sorted(cursor.fetchall())


def test_dbt_builds_and_tests_through_thrift(thrift_build, duckdb_run):
    output, on_thrift = thrift_build
    assert "ERROR=0" in output and " PASS " in output  # the data and unit tests ran on the Thrift server
    with duckdb.connect(str(duckdb_run.serving_db), read_only=True) as con:
        on_duckdb = sorted(con.execute("select customer_id, recency_days, frequency, cast(monetary as varchar), tier "
                                       "from marts.customer_rfm join marts.customer_rfm_tiers using (customer_id)").fetchall())
    assert len(on_thrift) > 100
    assert on_thrift == on_duckdb
