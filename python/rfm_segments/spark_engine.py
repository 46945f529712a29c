"""`python -m rfm_segments run --engine spark` (`make run ENGINE=spark`): the same dbt project on
Apache Spark (docs/spark.md).

dbt-spark runs dbt Python models only on Databricks/Dataproc, so a Spark build has three parts,
all in this one process and one SparkSession (the local Hive catalog on Derby admits one process):
1. `dbt build` of every node that no Python model feeds (staging to the RFM marts and tiers),
2. the clustering step: rfm_segments.clustering_step, the functions the dbt Python models call
   on DuckDB, on one row per customer collected from Spark; written back as the tables those
   models would write (intermediate.int_cluster_k_evaluation, clustering.customer_clusters),
3. `dbt build` of the SQL models that read only those tables, and `dbt test` of the tables.
Models downstream of the other Python models (history, CLV) and the customer attribute models
(tag duckdb_only) are not built on Spark yet.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rfm_segments import clustering_step

#: The dbt Python models the clustering step replaces on Spark, with the tables it writes.
STEP_MODELS = ("int_cluster_k_evaluation", "customer_clusters")
#: Models whose SQL is not yet portable (dbt_project.yml): skipped, with what they feed.
DUCKDB_ONLY = "tag:duckdb_only"
#: The marts a Spark build reads back for its summary.
SUMMARY_TABLES = ("marts.data_quality_summary", "marts.customer_rfm_tiers", "clustering.customer_clusters")


class SparkEngineError(Exception):
    """A problem with the Spark build, printed as one line."""


def require_spark() -> None:
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkEngineError(
            "the Spark engine is not installed: run `make run ENGINE=spark` (installs it on first use) "
            "or `.venv/bin/pip install -e '.[spark]'`") from None


def spark_target() -> str:
    """Profile target: a Spark Connect cluster when SPARK_REMOTE is set, else local Spark."""
    return "spark_connect" if os.environ.get("SPARK_REMOTE") else "spark"


#: A path only the cluster reads (s3a://, abfss://, hdfs://, gs://, dbfs:/...), not this machine's file.
CLUSTER_PATH = re.compile(r"^[a-z][a-z0-9+.-]+:/", re.IGNORECASE)


def is_cluster_path(data: str) -> bool:
    return bool(CLUSTER_PATH.match(data)) and not data.lower().startswith("file:")


def cluster_input_vars(data: str, columns: str | None, date_format: str | None) -> dict:
    """dbt vars for an input the cluster reads itself: no local preflight (this machine cannot open
    it), so the file must be UTF-8 CSV with a header, comma-separated, or Parquet; var raw_path
    is the path as given; --columns and --date-format map as for a local file."""
    print(f"==> input {data}: read by the Spark cluster (no local preflight: UTF-8 CSV with a header, or Parquet)",
          flush=True)
    given = {"raw_columns": columns, "raw_date_format": date_format}
    return {"raw_path": data, **{name: value for name, value in given.items() if value}}


@dataclass
class SparkBuild:
    """What one Spark build made: the dbt target, the seconds each part took, the step's k."""
    target: str
    seconds: dict[str, float] = field(default_factory=dict)
    python_models: list[str] = field(default_factory=list)
    chosen_k: int | None = None


def _invoke(runner: Any, args: list[str]) -> Any:
    print(f"==> dbt {' '.join(args)}", flush=True)
    result = runner.invoke(args)
    if not result.success:
        raise SparkEngineError(f"dbt {args[0]} on Spark failed; see the dbt output above"
                               + (f" ({result.exception})" if result.exception else ""))
    return result


def build(dbt_vars: dict, project_dir: Path, spark_dir: Path, data_tests: bool = True) -> SparkBuild:
    """Builds the project on Spark in this process (see the module docstring). Without
    `data_tests`, only seeds and models (`dbt seed` + `dbt run`: the cross-engine test compares
    every value instead, in a fraction of the time)."""
    require_spark()
    from dbt.cli.main import dbtRunner

    os.environ["SEGMENTS_SPARK_DIR"] = str(spark_dir)
    spark_dir.mkdir(parents=True, exist_ok=True)
    target = spark_target()
    common = ["--project-dir", str(project_dir), "--target", target, "--vars", json.dumps(dbt_vars)]
    runner = dbtRunner()
    made = SparkBuild(target=target)

    started = time.monotonic()
    manifest = _invoke(runner, ["parse", *common]).result
    made.python_models = sorted(node.name for node in manifest.nodes.values()
                                if node.resource_type == "model" and node.language == "python")
    excluded = [f"{name}+" for name in made.python_models] + [f"{DUCKDB_ONLY}+"]
    for command in (["build"] if data_tests else ["seed", "run"]):
        _invoke(runner, [command, *common, "--exclude", *excluded])
    made.seconds[f"dbt {' + '.join(['build'] if data_tests else ['seed', 'run'])} (SQL models)"] = time.monotonic() - started

    started = time.monotonic()
    configs = {name: node.config for node in manifest.nodes.values() for name in STEP_MODELS
               if node.resource_type == "model" and node.name == name}
    made.chosen_k = run_clustering_step(configs)
    made.seconds["clustering step"] = time.monotonic() - started

    # The SQL models that read only the step's tables (e.g. the public cluster_k_evaluation).
    started = time.monotonic()
    others = [f"{name}+" for name in made.python_models if name not in STEP_MODELS]
    for command in (["build"] if data_tests else ["run"]):
        _invoke(runner, [command, *common, "--select", *(f"{name}+" for name in STEP_MODELS),
                         "--exclude", *STEP_MODELS, *others, *duckdb_only_outside_step(manifest)])
    made.seconds["dbt (SQL models on the step's tables)"] = time.monotonic() - started

    if data_tests:
        started = time.monotonic()
        _invoke(runner, ["test", *common, "--select", *STEP_MODELS, "--indirect-selection", "cautious"])
        made.seconds["dbt test (clustering tables)"] = time.monotonic() - started
    return made


def duckdb_only_outside_step(manifest) -> list[str]:
    """The duckdb_only models and what they feed, except through the step models: the step reads
    the attribute models only with var cluster_on_attributes, which a Spark build refuses."""
    children: dict[str, list[str]] = {}
    for uid, node in manifest.nodes.items():
        for parent in getattr(node.depends_on, "nodes", []):  # seeds depend on macros only
            children.setdefault(parent, []).append(uid)
    skipped, todo = set(), [uid for uid, node in manifest.nodes.items() if "duckdb_only" in node.tags]
    while todo:
        uid = todo.pop()
        if uid in skipped or manifest.nodes[uid].name in STEP_MODELS:
            continue
        skipped.add(uid)
        todo.extend(children.get(uid, []))
    return sorted(manifest.nodes[uid].name for uid in skipped if manifest.nodes[uid].resource_type == "model")


def spark_session():
    """The SparkSession dbt-spark started in this process (or one per the profile's defaults)."""
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()


def _frame(spark, sql: str):
    """A query's rows as pandas, through Arrow (one row per customer at most: never raw lines)."""
    return spark.sql(sql).toArrow().to_pandas()


def _write_table(spark, frame, table: str) -> None:
    import pyarrow as pa

    spark.sql(f"create database if not exists {table.split('.')[0]}")
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    spark.createDataFrame(arrow).write.mode("overwrite").format("parquet").saveAsTable(table)


def run_clustering_step(configs: dict[str, Any]) -> int:
    """Reads one row per customer, fits with rfm_segments.clustering_step, writes the tables."""
    spark = spark_session()
    rfm_columns = ", ".join(clustering_step.RFM_COLUMNS)
    rfm = _frame(spark, f"select {rfm_columns} from marts.customer_rfm")
    print(f"==> clustering step: {len(rfm):,} customers (one row each) from marts.customer_rfm", flush=True)
    backtest = _frame(spark, f"""
        select {', '.join(clustering_step.BACKTEST_COLUMNS)} from intermediate.int_snapshot_next_period_spend
        where snapshot_date = (select max(snapshot_date) from intermediate.int_snapshot_next_period_spend)""")
    k_config = {key: configs["int_cluster_k_evaluation"].get(key) for key in clustering_step.K_EVALUATION_CONFIG}
    attributes = None
    if clustering_step.clusters_on_attributes(k_config):  # var cluster_on_attributes: behaviour + attributes
        attributes = _frame(spark, f"select {', '.join(clustering_step.ATTRIBUTE_COLUMNS)} "
                                   "from intermediate.int_customer_attributes")
    evaluation = clustering_step.k_evaluation(rfm, backtest if len(backtest) else None, k_config, attributes)
    _write_table(spark, evaluation, "intermediate.int_cluster_k_evaluation")
    k = clustering_step.chosen_k(evaluation)
    words = _frame(spark, """
        select words.snapshot_date, words.recency_word, words.up_to_days
        from intermediate.int_snapshot_recency_words as words
        join intermediate.int_rfm_as_of_date as as_of on words.snapshot_date = as_of.as_of_date""")
    (bounds,) = clustering_step.recency_bounds_from_rows(words).values()
    clusters = clustering_step.customer_clusters(
        rfm, k, bounds,
        {key: configs["customer_clusters"].get(key) for key in clustering_step.CUSTOMER_CLUSTERS_CONFIG}, attributes)
    _write_table(spark, clusters, "clustering.customer_clusters")
    print(f"==> clustering step: k={k}, wrote intermediate.int_cluster_k_evaluation and clustering.customer_clusters",
          flush=True)
    return k


def print_summary(made: SparkBuild, spark_dir: Path) -> None:
    """What the Spark build made, read back from its tables."""
    spark = spark_session()

    def rows(sql: str) -> list[tuple]:
        return [tuple(row) for row in spark.sql(sql).collect()]

    ((read,),) = rows("select sum(rows) from marts.data_quality_summary")
    ((valid,),) = rows("select rows from marts.data_quality_summary where outcome = 'valid'")
    ((customers, as_of),) = rows("select count(*), max(as_of_date) from marts.customer_rfm")
    print(f"\nBuilt on Spark ({made.target}): RFM for {customers:,} customers as of {as_of}.")
    print(f"Rows read {read:,}, valid {valid:,}, rejected {read - valid:,}" + (" by reason:" if read > valid else "."))
    for reason, count in rows("select outcome, rows from marts.data_quality_summary "
                              "where outcome <> 'valid' and rows > 0 order by rows desc, outcome"):
        print(f"  {reason:<26}{count:>12,}")
    print("\nCustomers per tier:")
    for tier, count, revenue in rows(
        "select tiers.tier, count(*), sum(rfm.monetary) from marts.customer_rfm_tiers as tiers "
        "join marts.customer_rfm as rfm on tiers.customer_id = rfm.customer_id "
        "group by tiers.tier, tiers.tier_rank order by tiers.tier_rank desc"
    ):
        print(f"  {tier:<26}{count:>12,}   revenue {revenue:>16,.2f}")
    print(f"\nK-Means clusters (clustering step): k={made.chosen_k}")
    for cluster_id, name, count in rows(
        "select cluster_id, segment_name, count(*) from clustering.customer_clusters "
        "group by cluster_id, segment_name order by cluster_id"
    ):
        print(f"  {cluster_id:>2}  {name:<30}{count:>10,} customers")
    print(f"\n{spark_build_notes(made, spark_dir)}")
    print("Not built on Spark yet (they need the history and CLV Python models): "
          + ", ".join(name for name in made.python_models if name not in STEP_MODELS) + " and the marts they feed.")


def spark_build_notes(made: SparkBuild, spark_dir: Path) -> str:
    """The time of each part, where the Spark build's tables live and how to query them there."""
    times = f"Spark ({made.target}) build times: " + ", ".join(f"{part} {seconds:.0f} s" for part, seconds in made.seconds.items())
    if made.target == "spark_connect":
        where = (f"Spark tables: in the catalog and warehouse of the Spark Connect server {os.environ.get('SPARK_REMOTE')} "
                 "(schemas retail, staging, intermediate, marts, reference, clustering)")
    else:
        where = f"Spark tables: {spark_dir / 'tables'} (Parquet), catalog {spark_dir / 'metastore_db'} (Derby: one process at a time)"
    return (f"{times}\n{where}\nQuery them on Spark: cd dbt_project && SEGMENTS_SPARK_DIR={spark_dir} ../.venv/bin/dbt show "
            f"--target {made.target} --inline 'select * from marts.customer_rfm_tiers'   (docs/spark.md)")
