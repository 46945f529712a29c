"""`make bench ENGINE=spark` (`bench/run_bench.py --engine spark`): the Spark build timed beside
DuckDB on the same generated file (docs/spark.md "What it costs").

For each size (default 1M lines), each in its own process with a fresh warehouse, measured from
outside (wall time, peak RSS of the process tree, as bench/run_bench.py measures):
  duckdb         `python -m rfm_segments run` (dbt build, publishing, summary, report)
  spark          `python -m rfm_segments run --engine spark`: an in-process local Spark (JVM start,
                 Derby catalog, then the dbt build, the clustering step, staging and publishing)
  spark_connect  the same against a local Spark Connect server started beforehand (the JVM is
                 warm, as on a cluster; its start is timed apart; the server's own memory is not
                 in peak_mb)
Each Spark run's parts come from its "Spark (...) build times" line. One row per size and engine
is appended to bench/results/engines.csv (results.csv stays the DuckDB contenders' table).
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from rfm_segments.project_vars import project_vars
from run_bench import BENCH, REPO, BenchError, ensure_data, fail, machine, measure, say

FIELDS = ["date", "machine", "lines", "engine", "wall_s", "peak_mb", "customers", "server_start_s", "parts"]
ENGINES = ("duckdb", "spark", "spark_connect")


def run_command(db: Path, raw: Path, *engine: str) -> list[str]:
    return [sys.executable, "-m", "rfm_segments", "--db", str(db), "run", "--data", str(raw), *engine]


def parts(log: Path) -> str:
    """'dbt build (SQL models) 294 s, clustering step 15 s, ...' from a Spark run's output."""
    found = re.search(r"^Spark \([a-z_]+\) build times: (.*)$", log.read_text(), re.MULTILINE)
    return found.group(1) if found else ""


def customers(log: Path) -> int | None:
    found = re.search(r"(?:Built RFM segments for|RFM for) ([\d,]+) customers", log.read_text())
    return int(found.group(1).replace(",", "")) if found else None


def bench_engine(engine: str, lines: int, raw: Path, work: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ, DBT_TARGET_PATH=str(work / "target"), DBT_LOG_PATH=str(work / "logs"),
               SEGMENTS_SPARK_DIR=str(work / "spark"))
    env.pop("SEGMENTS_SERVING_DIR", None)
    env.pop("SPARK_REMOTE", None)
    row = {"lines": lines, "engine": engine, "server_start_s": None}
    server = None
    try:
        if engine == "spark_connect":
            from rfm_segments import spark_servers

            started = time.perf_counter()
            server = spark_servers.start("connect", work / "connect-server")
            row["server_start_s"] = time.perf_counter() - started
            env["SPARK_REMOTE"] = server.url
        say(f"{lines:,} lines, {engine}: running")
        log = work / "run.log"
        run = measure(engine, run_command(work / "segments.duckdb", raw, *([] if engine == "duckdb" else ["--engine", "spark"])),
                      log, env=env)
        if run["returncode"] != 0:
            fail(engine, run, log)
    finally:
        if server:
            server.stop()
    row.update(wall_s=run["wall_s"], peak_mb=run["peak_mb"], customers=customers(log), parts=parts(log))
    say(f"{lines:,} lines, {engine}: {run['wall_s']:,.0f} s, {run['peak_mb']:,.0f} MB" + (f" ({row['parts']})" if row["parts"] else ""))
    return row


def append(rows: list[dict], path: Path) -> None:
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow({key: (f"{value:.3f}" if isinstance(value, float) else value) for key, value in row.items()})


def main(argv: list[str] | None = None) -> int:
    # allow_abbrev=False: run_bench's --engine must not pass for an abbreviation of --engines
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000], help="input lines (default: 1M)")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--seed", type=int, default=project_vars()["cluster_seed"],
                        help="seed of the generated data (default: var cluster_seed, as run_bench)")
    parser.add_argument("--data-dir", type=Path, default=REPO / "data" / "bench")
    parser.add_argument("--work-dir", type=Path, default=REPO / "data" / "bench" / "work-engines")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--no-record", action="store_true", help="do not touch engines.csv")
    options, _ = parser.parse_known_args(argv)  # run_bench's own options (--engine) pass through
    try:
        rows = []
        for lines in options.sizes:
            raw = ensure_data(lines, options.seed, options.data_dir)
            for engine in options.engines:
                rows.append({"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"), "machine": machine(),
                             **bench_engine(engine, lines, raw, options.work_dir / f"{lines}-{engine}")})
        print(f"\n{'lines':>12}  {'engine':<14}{'wall s':>9}{'peak MB':>9}  parts")
        for row in rows:
            print(f"{row['lines']:>12,}  {row['engine']:<14}{row['wall_s']:>9,.0f}{row['peak_mb']:>9,.0f}  {row['parts']}")
        if not options.no_record:
            append(rows, options.results_dir / "engines.csv")
            say(f"results appended to {options.results_dir / 'engines.csv'}")
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
