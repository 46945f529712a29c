"""Publishing from Spark gives what BI, the report and the summary get from a DuckDB build
(rfm_segments.spark_publish, docs/spark.md "Publishing for BI").

Every public mart of the session's DuckDB build (fixture sample_db) is written as a table into the
shared Spark Connect server; then the end of `run --engine spark` (cli.publish_spark_build) stages
them back through Spark (line-level marts as Parquet written by Spark) and publishes them. The
publication must hold the same tables, rows and contents as the DuckDB build's, and the summary
printed at the end must be the DuckDB run's, line for line.
"""
from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from conftest import REPO, run_pipeline

pytest.importorskip("pyspark", reason="the Spark extra is not installed (`make test` installs it)")
pytestmark = pytest.mark.spark

#: Writes the DuckDB build's public marts into the Connect server, then ends like `run --engine spark`.
SCRIPT = """
import argparse, sys
from pathlib import Path
import duckdb
import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_schema
from rfm_segments import bi_registry, cli, spark_engine

build_db, serving_db, target = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
spark = spark_engine.spark_session()
with duckdb.connect(str(build_db), read_only=True) as con:
    for model in bi_registry.public_models(target):
        spark.sql(f"create database if not exists {model.schema}")
        rows = con.sql(f'select * from "{model.schema}"."{model.name}"').arrow().read_all()
        # an all-null column has no type Parquet stores: text, as the DuckDB build would cast it
        rows = rows.cast(pa.schema([field.with_type(pa.string()) if pa.types.is_null(field.type) else field
                                    for field in rows.schema]))
        frame = spark.createDataFrame(rows, schema=from_arrow_schema(rows.schema))
        frame.write.mode("overwrite").format("parquet").saveAsTable(model.relation)
made = spark_engine.SparkBuild(target="spark_connect", seconds={"dbt build": 1.0})
options = argparse.Namespace(serving_dir=None, report=None)
cli.publish_spark_build(options, serving_db, made, serving_db.parent / "spark")
"""


@pytest.fixture(scope="module")
def spark_publication(tmp_path_factory, sample_db, connect_server):
    work = tmp_path_factory.mktemp("spark-publish")
    env = dict(os.environ, SPARK_REMOTE=connect_server.url, DBT_PROFILES_DIR=str(REPO),
               DBT_TARGET_PATH=str(sample_db.parent / "target"))
    env.pop("SEGMENTS_SERVING_DIR", None)
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(sample_db), str(work / "segments.duckdb"),
                             str(sample_db.parent / "target")], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return work / "serving" / "segments.duckdb", result.stdout


def publication(db) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        return {(schema, name): (rows, checksum) for schema, name, rows, checksum in con.execute(
            "select table_schema, table_name, row_count, checksum from serving.publication").fetchall()}


def test_spark_publication_is_the_duckdb_builds_to_the_checksum(spark_publication, sample_db):
    """Tables, row counts and content checksums (DuckDB hash() of every typed row) all equal."""
    published, _ = spark_publication
    on_spark, on_duckdb = publication(published), publication(sample_db.parent / "serving" / "segments.duckdb")
    assert len(on_duckdb) > 20
    assert on_spark == on_duckdb


def test_spark_run_ends_with_the_duckdb_runs_summary_and_a_report(spark_publication, sample_db, tmp_path):
    published, output = spark_publication
    duckdb_summary = run_pipeline(sample_db.parent, "summary").stdout
    assert duckdb_summary.strip()
    ours = output[output.index("Built RFM segments"):]
    for line in duckdb_summary.strip().splitlines():
        if not line.startswith("Published build:"):
            assert line in ours, line
    assert "Published for BI" in ours and "Spark (spark_connect) build times" in ours
    report = published.parent.parent / "segments_report.html"
    assert report.exists() and "Recent" in report.read_text()
