"""dbt Python models as steps of a Spark build (rfm_segments.spark_engine, docs/spark.md).

dbt-spark runs Python models only on Databricks/Dataproc. A Spark build therefore runs every
Python model of the manifest itself, with the model file's own `model(dbt, session)`: one code
path for both engines. Its refs are read from Spark once each, as Arrow, into an in-memory DuckDB
(so `dbt.ref()` is the DuckDB relation the model gets on DuckDB), `dbt.config.get` reads the
node's config from the manifest, and the frame returned is written back as the model's table.
Refs are at most one row per customer (and snapshot): a ref to a line-grain model is refused.

The build alternates: `wave 0` is every node no Python model feeds; before each later wave the
Python models whose inputs are all built run, then dbt builds the nodes they unblock.
"""
from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

#: Folders (fqn parts) of line-grain models: a Python model reading one would collect raw lines.
LINE_GRAIN_FOLDERS = frozenset({"staging", "transactions", "data_quality"})


class PythonModelStepError(Exception):
    """A Python model that cannot run as a step, in one line."""


@dataclass
class Wave:
    """What runs in one round: Python models first, then dbt on the nodes they unblock."""
    python_models: list[Any] = field(default_factory=list)
    #: dbt selectors (`fqn:...`) of the seeds, SQL models and data tests of this round.
    selectors: list[str] = field(default_factory=list)


def _is_python_model(node: Any) -> bool:
    return node.resource_type == "model" and getattr(node, "language", "sql") == "python"


def waves(manifest: Any) -> list[Wave]:
    """The manifest's nodes in rounds: a node's round is the number of Python models on its
    longest path from the sources (a Python model counts itself)."""
    nodes = {uid: node for uid, node in manifest.nodes.items()
             if node.resource_type in ("model", "seed", "test", "snapshot")}
    level: dict[str, int] = {}

    def level_of(uid: str, path: tuple = ()) -> int:
        if uid not in level:
            if uid in path:
                raise PythonModelStepError(f"dependency cycle at {uid}")
            node = nodes[uid]
            parents = [parent for parent in getattr(node.depends_on, "nodes", []) if parent in nodes]
            parent_level = max((level_of(parent, (*path, uid)) for parent in parents), default=0)
            level[uid] = parent_level + (1 if _is_python_model(node) else 0)
        return level[uid]

    for uid in sorted(nodes):
        level_of(uid)
    rounds = [Wave() for _ in range(max(level.values(), default=0) + 1)]
    for uid in sorted(nodes, key=lambda u: (level[u], u)):
        node = nodes[uid]
        if _is_python_model(node):
            rounds[level[uid]].python_models.append(node)
        else:
            rounds[level[uid]].selectors.append("fqn:" + ".".join(node.fqn))
    return rounds


def table_name(node: Any) -> str:
    return f"{node.schema}.{node.alias}"


class _Config:
    """`dbt.config` inside the model: `config(...)` is a no-op (the manifest has it), `get` reads it."""

    def __init__(self, config: Any) -> None:
        self._config = config

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        return None

    def get(self, key: str, default: Any = None) -> Any:
        value = self._config.get(key, default)
        return default if value is None else value


def _read_ref(spark: Any, con: Any, node: Any) -> Any:
    """One ref, read from Spark through Arrow into the step's DuckDB, as a relation."""
    if node.resource_type == "model" and LINE_GRAIN_FOLDERS.intersection(node.fqn[1:-1]):
        raise PythonModelStepError(
            f"a Python model reads {node.name}, a line-grain model: steps read at most one row per customer")
    arrow = spark.sql(f"select * from {table_name(node)}").toArrow()
    return con.from_arrow(arrow)


def run_python_model(spark: Any, manifest: Any, node: Any) -> int:
    """Runs one dbt Python model's own `model(dbt, session)` against Spark's tables and writes
    its result as the model's table. Returns the rows written."""
    import duckdb

    con = duckdb.connect()
    parents = {manifest.nodes[uid].name: manifest.nodes[uid] for uid in node.depends_on.nodes
               if uid in manifest.nodes}
    refs: dict[str, Any] = {}

    def ref(name: str, *args: Any, **kwargs: Any) -> Any:
        if name not in parents:
            raise PythonModelStepError(f"{node.name} refs {name}, which its manifest entry does not list")
        if name not in refs:
            refs[name] = _read_ref(spark, con, parents[name])
        return refs[name]

    dbt = types.SimpleNamespace(ref=ref, config=_Config(node.config), this=table_name(node),
                                is_incremental=False)
    module: dict[str, Any] = {"__name__": f"dbt_python_model_{node.name}"}
    exec(compile(node.raw_code, node.original_file_path, "exec"), module)
    result = module["model"](dbt, con)
    try:
        written = write_table(spark, result, table_name(node))
    finally:
        con.close()
    return written


def write_table(spark: Any, result: Any, table: str) -> int:
    """A pandas frame or Arrow table as a parquet table (replaced whole). Columns with no value
    at all (Arrow type null, which parquet cannot store) are written as strings."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    arrow = result if isinstance(result, pa.Table) else pa.Table.from_pandas(result, preserve_index=False)
    for index, column in enumerate(arrow.schema):
        if pa.types.is_null(column.type):
            arrow = arrow.set_column(index, column.name, arrow.column(index).cast(pa.string()))
    spark.sql(f"create database if not exists {table.split('.')[0]}")
    # the schema given, not inferred: Spark Connect cannot infer one from no rows
    frame = spark.createDataFrame(arrow, schema=from_arrow_schema(arrow.schema))
    frame.write.mode("overwrite").format("parquet").saveAsTable(table)
    return arrow.num_rows
