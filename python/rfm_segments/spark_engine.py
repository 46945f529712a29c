"""`python -m rfm_segments run --engine spark` (`make run ENGINE=spark`): the same dbt project on
Apache Spark (docs/spark.md).

dbt-spark runs dbt Python models only on Databricks/Dataproc, so a Spark build runs in rounds,
all in this one process and one SparkSession (the local Hive catalog on Derby admits one process):
`dbt build` of every node no Python model feeds (staging to the RFM marts and tiers), then each
dbt Python model of the manifest (K-Means evidence and fit, the model history, the CLV fits, the
cluster evidence) as a step of this process (rfm_segments.python_model_step: the model file's own
code, on one row per customer and snapshot read from Spark, written back as the model's table),
and `dbt build` of the nodes each round of steps unblocks, until every mart is built.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rfm_segments import python_model_step

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


def _invoke(runner: Any, args: list[str], shown: str | None = None) -> Any:
    print(f"==> dbt {shown or ' '.join(args)}", flush=True)
    result = runner.invoke(args)
    if not result.success:
        raise SparkEngineError(f"dbt {args[0]} on Spark failed; see the dbt output above"
                               + (f" ({result.exception})" if result.exception else ""))
    return result


#: Env: "0" builds seeds and models only (`dbt seed` + `dbt run`, about half the nodes): the Spark
#: tests compare every published value with a DuckDB build that ran the data tests instead.
DATA_TESTS_ENV = "SEGMENTS_SPARK_DATA_TESTS"


def build(dbt_vars: dict, project_dir: Path, spark_dir: Path, data_tests: bool | None = None) -> SparkBuild:
    """Builds the project on Spark in this process (see the module docstring). Without
    `data_tests` (default: env SEGMENTS_SPARK_DATA_TESTS, else on), only seeds and models."""
    if data_tests is None:
        data_tests = os.environ.get(DATA_TESTS_ENV, "1") != "0"
    require_spark()
    from dbt.cli.main import dbtRunner

    os.environ["SEGMENTS_SPARK_DIR"] = str(spark_dir)
    spark_dir.mkdir(parents=True, exist_ok=True)
    target = spark_target()
    common = ["--project-dir", str(project_dir), "--target", target, "--vars", json.dumps(dbt_vars)]
    made = SparkBuild(target=target)
    started = time.monotonic()
    manifest = _invoke(dbtRunner(), ["parse", *common]).result
    made.seconds["dbt parse"] = time.monotonic() - started
    run_in_waves(dbtRunner(manifest=manifest), manifest, common, made, data_tests)
    return made


def run_in_waves(runner: Any, manifest: Any, common: list[str], made: SparkBuild, data_tests: bool) -> None:
    """Every node of the manifest, in rounds (rfm_segments.python_model_step.waves): the dbt Python
    models run as steps of this process (their own model files, on tables read from Spark), and
    dbt builds the seeds, SQL models and tests each round unblocks."""
    rounds = python_model_step.waves(manifest)
    made.python_models = [node.name for wave in rounds for node in wave.python_models]
    commands = ["build"] if data_tests else ["seed", "run"]
    for number, wave in enumerate(rounds):
        for node in wave.python_models:
            started = time.monotonic()
            print(f"==> Python model {node.name} as a step on Spark", flush=True)
            try:
                rows = python_model_step.run_python_model(spark_session(), manifest, node)
            except python_model_step.PythonModelStepError as error:
                raise SparkEngineError(f"Python model {node.name} on Spark: {error}") from None
            made.seconds[f"Python model {node.name}"] = time.monotonic() - started
            print(f"==> {node.name}: {rows:,} rows written to {python_model_step.table_name(node)}", flush=True)
            if node.name == "int_cluster_k_evaluation":
                made.chosen_k = chosen_k_on_spark(node)
        if not wave.selectors:
            continue
        started = time.monotonic()
        for command in commands if number == 0 else [c for c in commands if c != "seed"]:
            _invoke(runner, [command, *common, "--indirect-selection", "empty", "--select", *wave.selectors],
                    shown=f"{command} --target {made.target}: round {number}, {len(wave.selectors)} nodes")
        made.seconds[f"dbt {' + '.join(commands)} (round {number})"] = time.monotonic() - started


def chosen_k_on_spark(node: Any) -> int:
    ((k,),) = spark_session().sql(
        f"select k from {python_model_step.table_name(node)} where is_chosen").collect()
    return int(k)


def spark_session():
    """The SparkSession dbt-spark started in this process (or one per the profile's defaults)."""
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()


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
