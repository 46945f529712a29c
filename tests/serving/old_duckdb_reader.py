"""Runs inside the test's separate venv with an old DuckDB (what BI drivers bundle), plus
duckdb-engine and SQLAlchemy as Superset uses them. Prints one JSON object of what it read.

usage: python old_duckdb_reader.py SERVING_DIR NEWER_FORMAT_FILE [--sqlalchemy]
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import duckdb

FINGERPRINT = "select count(*), coalesce(sum(hash(t)), 0)::varchar from {} as t"


def main(serving: Path, newer_format_file: Path, with_sqlalchemy: bool) -> dict:
    database = serving / "segments.duckdb"
    report: dict = {"duckdb_version": duckdb.__version__}

    with duckdb.connect(str(database), read_only=True) as con:
        published = con.execute("select table_schema, table_name from serving.publication order by all").fetchall()
        report["tables"] = {
            f"{schema}.{name}": list(con.execute(FINGERPRINT.format(f'"{schema}"."{name}"')).fetchone())
            for schema, name in published
        }
        report["comments"] = dict(con.execute(
            "select table_name || '.' || column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'customer_segments'"
        ).fetchall())

    version = os.path.realpath(serving / "parquet")
    with duckdb.connect() as con:
        report["parquet"] = {
            f"{schema}.{name}": list(con.execute(
                FINGERPRINT.format(f"read_parquet('{version}/{name}.parquet')")).fetchone())
            for schema, name in published
        }

    if with_sqlalchemy:
        report.update(read_through_sqlalchemy(database))

    try:  # what the serving file avoids: DuckDB's newest storage format
        duckdb.connect(str(newer_format_file), read_only=True).close()
        report["newer_format_error"] = None
    except duckdb.Error as error:
        report["newer_format_error"] = str(error).splitlines()[0]
    return report


def read_through_sqlalchemy(database: Path) -> dict:
    """Superset's way: SQLAlchemy URI duckdb:////abs/path, read_only in connect_args."""
    import sqlalchemy as sa

    report = {"sqlalchemy_version": sa.__version__}
    engine = sa.create_engine(f"duckdb:///{database}", connect_args={"read_only": True})
    with engine.connect() as con:
        inspector = sa.inspect(con)
        report["sqlalchemy_tables"] = sorted(inspector.get_table_names(schema="marts"))
        report["sqlalchemy_columns"] = [c["name"] for c in inspector.get_columns("customer_segments", schema="marts")]
        report["sqlalchemy_table_comment"] = inspector.get_table_comment("customer_segments", schema="marts")["text"]
        report["sqlalchemy_profiles"] = [
            list(row) for row in con.execute(sa.text(
                "select cluster_id, segment_name, customers, cast(revenue as varchar) "
                "from marts.segment_profiles order by cluster_id"
            ))
        ]
    engine.dispose()
    return report


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]), "--sqlalchemy" in sys.argv[3:])))
