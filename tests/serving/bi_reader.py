"""A BI tool stand-in, run as its own process: reads the published tables in a loop and records
what it saw, until the stop file appears.

usage: python bi_reader.py MODE SERVING_DIR OUT_JSONL STOP_FILE
  hold     one read-only connection opened once and kept (a BI tool's connection pool)
  reopen   a new read-only connection for every read (a BI tool refreshing)
  parquet  the Parquet files, resolving the `parquet` link once per read

Every read fingerprints every table (rows, sum of hash() over the rows) and writes one JSON
line: {"t": ..., "build_ids": [...], "tables": {"marts.x": [rows, checksum], ...}} or
{"t": ..., "error": "..."}. The test compares the fingerprints with the warehouse builds.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb

FINGERPRINT = "select count(*), coalesce(sum(hash(t)), 0)::varchar from {} as t"


def read_database(con: duckdb.DuckDBPyConnection) -> dict:
    published = con.execute(
        "select build_id, table_schema, table_name from serving.publication order by all"
    ).fetchall()
    tables = {}
    for _, schema, name in published:
        rows, checksum = con.execute(FINGERPRINT.format(f'"{schema}"."{name}"')).fetchone()
        tables[f"{schema}.{name}"] = [rows, checksum]
    return {"build_ids": sorted({row[0] for row in published}), "tables": tables}


def read_parquet(serving: Path, config: dict) -> dict:
    version = Path(os.path.realpath(serving / "parquet"))  # resolved once: one consistent set
    con = duckdb.connect(config=config)
    try:
        published = con.execute(
            f"select build_id, table_schema, table_name from read_parquet('{version}/_publication.parquet') order by all"
        ).fetchall()
        tables, build_ids = {}, {row[0] for row in published}
        for _, schema, name in published:
            path = f"'{version}/{name}.parquet'"
            rows, checksum = con.execute(FINGERPRINT.format(f"read_parquet({path})")).fetchone()
            tables[f"{schema}.{name}"] = [rows, checksum]
            build_ids |= {value for (value,) in con.execute(
                f"select decode(value) from parquet_kv_metadata({path}) where decode(key) = 'build_id'"
            ).fetchall()}
    finally:
        con.close()
    return {"build_ids": sorted(build_ids), "tables": tables}


def main(mode: str, serving: Path, out: Path, stop: Path) -> None:
    database = str(serving / "segments.duckdb")
    config = {"threads": 1}  # the machine is small; the rebuild needs the cores more
    held = duckdb.connect(database, read_only=True, config=config) if mode == "hold" else None
    with open(out, "a") as log:
        while True:
            stopping = stop.exists()  # one last read after the stop signal
            record: dict = {"t": time.time()}
            try:
                if mode == "hold":
                    record.update(read_database(held))
                elif mode == "reopen":
                    with duckdb.connect(database, read_only=True, config=config) as con:
                        record.update(read_database(con))
                else:
                    record.update(read_parquet(serving, config))
            except Exception as error:  # recorded, the test fails on it
                record["error"] = f"{type(error).__name__}: {error}"
            log.write(json.dumps(record) + "\n")
            log.flush()
            if stopping:
                break
            time.sleep(0.5)
    if held is not None:
        held.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
