"""Publishing a Spark build for BI (docs/spark.md "Publishing for BI"): the same serving folder,
DuckDB file and Parquet files as a DuckDB build, so `make summary`, `make report`, `make query`
and the dashboards work unchanged whichever engine built the marts.

The public marts (rfm_segments.bi_registry) are staged in a DuckDB file beside the Spark catalog,
then rfm_segments.publish copies them to the serving folder atomically, as after a DuckDB build:
- a mart of at most one row per customer (per snapshot) comes through Spark SQL as Arrow
  (`toArrow()`, which works through Spark Connect too);
- a line-level mart (its columns include `invoice_id`: clean and rejected lines) is never
  collected to this machine: Spark's executors write it as Parquet to the export folder
  (`<spark dir>/export`, or $SEGMENTS_SPARK_EXPORT_DIR: on a remote cluster, storage that both
  the cluster and this machine mount), and DuckDB reads those files.
Nothing is published unless the Spark build made every public mart: a partial set would replace
a whole publication that BI, the report and the summary read.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from rfm_segments import bi_registry, publish
from rfm_segments.sql_quoting import quote_identifier, quote_literal

EXPORT_DIR_ENV = "SEGMENTS_SPARK_EXPORT_DIR"
STAGING_FILE = "spark_marts.duckdb"  # not marts.duckdb: a catalog named like schema marts is ambiguous
#: A public mart with this column has one row per transaction line (or finer than a customer).
LINE_GRAIN_COLUMN = "invoice_id"


@dataclass
class StagedMarts:
    """What the Spark build's public marts became: staged in `database`, or not built on Spark."""
    database: Path
    staged: list[bi_registry.PublicModel] = field(default_factory=list)
    missing: list[bi_registry.PublicModel] = field(default_factory=list)

    @property
    def line_grain(self) -> list[bi_registry.PublicModel]:
        return [model for model in self.staged if is_line_grain(model)]


def is_line_grain(model: bi_registry.PublicModel) -> bool:
    return LINE_GRAIN_COLUMN in {name for name, _ in model.columns}


def spark_relation(model: bi_registry.PublicModel) -> str:
    return ".".join(f"`{part.replace('`', '``')}`" for part in (model.schema, model.name))


def export_dir(spark_dir: Path) -> Path:
    return Path(os.environ.get(EXPORT_DIR_ENV) or spark_dir / "export").resolve()


def stage(spark, models: tuple[bi_registry.PublicModel, ...], spark_dir: Path) -> StagedMarts:
    """Copies every public mart the Spark build made into `<spark_dir>/spark_marts.duckdb` (rebuilt)."""
    spark_dir.mkdir(parents=True, exist_ok=True)
    database = spark_dir / STAGING_FILE
    staged = StagedMarts(database)
    temporary = database.with_name(f".{database.name}.tmp")
    temporary.unlink(missing_ok=True)
    exports = export_dir(spark_dir)
    con = duckdb.connect(str(temporary))
    try:
        con.execute("set TimeZone = 'UTC'")
        for model in models:
            if not spark.catalog.tableExists(f"{model.schema}.{model.name}"):
                staged.missing.append(model)
                continue
            print(f"==> publishing: {model.relation} from Spark"
                  + (" (line-level: Parquet written by Spark)" if is_line_grain(model) else ""), flush=True)
            con.execute(f"create schema if not exists {quote_identifier(model.schema)}")
            table = f"{quote_identifier(model.schema)}.{quote_identifier(model.name)}"
            if is_line_grain(model):
                _stage_from_parquet(spark, con, model, table, exports / model.schema / model.name)
            else:
                rows = spark.sql(f"select * from {spark_relation(model)}").toArrow()
                con.register("spark_rows", rows)
                con.execute(f"create table {table} as select * from spark_rows")
                con.unregister("spark_rows")
            _as_build_types(con, model)
            _comment(con, model, table)
            staged.staged.append(model)
    finally:
        con.close()
    os.replace(temporary, database)
    return staged


def _stage_from_parquet(spark, con: duckdb.DuckDBPyConnection, model: bi_registry.PublicModel,
                        table: str, folder: Path) -> None:
    """Spark's executors write the mart; this machine reads the files (never the driver's memory)."""
    spark.sql(f"select * from {spark_relation(model)}").write.mode("overwrite").parquet(str(folder))
    files = sorted(folder.glob("*.parquet"))
    if not (folder / "_SUCCESS").exists():
        raise publish.PublishError(
            f"Spark wrote {model.relation} to {folder}, which this machine cannot read: set {EXPORT_DIR_ENV} "
            "to storage that both the cluster and this machine mount (the marts stay in the cluster's catalog)")
    columns = ", ".join(quote_identifier(name) for name in spark.table(spark_relation(model)).columns)
    source = f"read_parquet({quote_literal(str(folder / '*.parquet'))})" if files else None
    if source:
        con.execute(f"create table {table} as select {columns} from {source}")
    else:  # an empty mart: Spark writes no data file, only the schema is known
        con.register("spark_rows", spark.sql(f"select * from {spark_relation(model)} where false").toArrow())
        con.execute(f"create table {table} as select * from spark_rows")
        con.unregister("spark_rows")
    shutil.rmtree(folder, ignore_errors=True)


def _as_build_types(con: duckdb.DuckDBPyConnection, model: bi_registry.PublicModel) -> None:
    """Spark's timestamps arrive with a time zone (UTC, the profile's session zone); the DuckDB
    build's are plain UTC timestamps: the same values, the same type for BI."""
    for (column,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
        "and data_type = 'TIMESTAMP WITH TIME ZONE'", [model.schema, model.name]
    ).fetchall():
        con.execute(f"alter table {quote_identifier(model.schema)}.{quote_identifier(model.name)} "
                    f"alter {quote_identifier(column)} type timestamp")


def _comment(con: duckdb.DuckDBPyConnection, model: bi_registry.PublicModel, table: str) -> None:
    """The model's documentation, as the DuckDB build's persist_docs writes it."""
    if model.description:
        con.execute(f"comment on table {table} is {quote_literal(model.description)}")
    present = {name for (name,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
        [model.schema, model.name]).fetchall()}
    for column, text in model.columns:
        if text and column in present:
            con.execute(f"comment on column {table}.{quote_identifier(column)} is {quote_literal(text)}")


@dataclass
class SparkPublication:
    staged: StagedMarts
    publication: publish.Publication | None

    def why_not(self) -> str:
        names = ", ".join(model.relation for model in self.staged.missing)
        return (f"Not published for BI: the Spark build did not make {names} yet; BI keeps what was "
                f"published before. The marts it made are in {self.staged.database} (DuckDB) too.")


def publish_from_spark(spark, dbt_target: Path, spark_dir: Path, serving: Path) -> SparkPublication:
    """Stages the public marts from Spark and publishes them when the build made all of them."""
    try:
        models = bi_registry.public_models(dbt_target)
    except bi_registry.RegistryError as error:
        raise publish.PublishError(str(error)) from None
    staged = stage(spark, models, spark_dir)
    if staged.missing:
        return SparkPublication(staged, None)
    return SparkPublication(staged, publish.publish(staged.database, serving, dbt_target))
