"""Benchmark: the whole `make run` and our `dbt build` against a bare pandas notebook, the
full-featured pandas path and the DuckDB floor.

    make bench                              # 1M and 10M lines
    make bench SIZES="1000000 100000000"    # any sizes
    .venv/bin/python bench/run_bench.py --sizes 20000 --kselect-customers 0   # smoke run

For each size: generate the transactions file once (cached under data/bench/), then run in
separate processes, each measured from outside (wall time, peak memory of its whole process
tree: the sum of PSS, sampled with psutil):
  run       the whole `make run DATA=<file>` (preflight, dbt build, publish, summary, report)
            into a fresh warehouse folder: what users wait for. Its phases come from the
            run's run_phases.json and, inside the dbt build, from run_results.json per model
            folder (staging/retail, intermediate/transactions, ..., tests, seeds);
  ours      `dbt build` alone (every model, seed, data and unit test) into a fresh DuckDB file;
            run_results.json splits its time into SQL models, the Python step and tests;
  floor     one DuckDB query for the same RFM and tiers, plus the same final K-Means fit with
            the k our build chose (bench/contenders.py floor);
  notebook  the bare notebook: pandas read, clean, RFM, tiers, one K-Means fit with that k
            (bench/contenders.py notebook);
  pandas    the full-featured pandas path (tests/pandas_reference.py): every reject reason,
            K-Means and silhouette for every k (bench/contenders.py pandas).
It checks that all of them give the same RFM values, scores and tiers as the floor (exit 1 if
not), prints the phases, the ratios and the issue's targets, appends one row per size to bench/results/results.csv and redraws
bench/results/results.svg. Once per run it also times the fixed costs (dbt parse) and the
Python step alone on a synthetic table of --kselect-customers customers.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import psutil

from rfm_segments.project_vars import project_vars

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
DBT_PROJECT = REPO / "dbt_project"
PYTHON_MODELS = ("model.rfm_segments.int_cluster_k_evaluation", "model.rfm_segments.customer_clusters")
HEARTBEAT_S = 30
MB = 1024 * 1024

# Columns of results.csv, in order; one row per size and run.
FIELDS = [
    "date", "machine", "lines", "customers", "k",
    "ours_wall_s", "ours_sql_models_s", "ours_python_s", "ours_tests_s", "ours_seeds_s",
    "ours_outside_nodes_s", "ours_peak_mb",
    "floor_wall_s", "floor_query_s", "floor_kmeans_s", "floor_peak_mb",
    "pandas_status", "pandas_wall_s", "pandas_rfm_tiers_s", "pandas_kmeans_s", "pandas_peak_mb",
    "pandas_silhouette_customers",
    "ours_over_floor", "sql_over_floor_query", "pandas_over_ours", "memory_ours_over_pandas",
    "dbt_parse_s", "test_median_s", "tests", "dbt_parse_warm_s", "memory_limit",
    "kselect_customers", "kselect_s", "kselect_final_fit_s", "kselect_peak_mb",
    "run_wall_s", "run_peak_mb", "run_phases",
    "notebook_wall_s", "notebook_rfm_tiers_s", "notebook_kmeans_s", "notebook_peak_mb",
    "ours_rfm_sql_s", "run_over_notebook", "memory_run_over_notebook", "rfm_sql_over_floor_query",
    "load_average",
]
# The SQL that cleans, computes RFM and tiers: this model and every SQL model it is built from.
RFM_TIERS_MODEL = "model.rfm_segments.customer_rfm_tiers"


PANDAS_WAYS = ("notebook", "pandas")


class BenchError(Exception):
    """A run failed or the contenders disagree: printed as one line, exit 1."""


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = round(psutil.virtual_memory().total / 1024**3)
    return f"{os.cpu_count()} cores, {memory_gb} GB, {cpu}"


def tree_memory(process: psutil.Process) -> int:
    """Memory of a process and its children: the sum of their proportional set sizes (PSS), which
    counts pages shared between processes once (a forked child's copy-on-write pages, shared
    libraries); a sum of RSS would count them once per process."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def measure(label: str, command: list[str], log: Path, *, cwd: Path = REPO,
            env: dict | None = None, rss_cap_mb: float | None = None) -> dict:
    """Runs command, sampling the process tree's memory (PSS); returns wall_s, peak_mb, returncode, killed."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        root = psutil.Process(proc.pid)
        peak, killed, next_beat = 0, False, started + HEARTBEAT_S
        while proc.poll() is None:
            rss = tree_memory(root)
            peak = max(peak, rss)
            if rss_cap_mb and rss > rss_cap_mb * MB and not killed:
                killed = True
                say(f"  {label}: {rss / MB:,.0f} MB is over the {rss_cap_mb:,.0f} MB cap, stopping it")
                for member in reversed([root, *root.children(recursive=True)]):
                    try:
                        member.kill()
                    except psutil.Error:
                        pass
            now = time.perf_counter()
            if now >= next_beat:
                say(f"  {label}: running {now - started:,.0f}s, {rss / MB:,.0f} MB")
                next_beat = now + HEARTBEAT_S
            time.sleep(0.05)
    return {"wall_s": time.perf_counter() - started, "peak_mb": peak / MB,
            "returncode": proc.returncode, "killed": killed}


def last_json(log: Path) -> dict:
    for line in reversed(log.read_text().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise BenchError(f"no result line in {log}")


def fail(label: str, run: dict, log: Path) -> None:
    tail = "\n".join(log.read_text().splitlines()[-25:])
    print(tail, file=sys.stderr)
    raise BenchError(f"{label} failed (exit {run['returncode']}); log: {log}")


def dbt_env(db: Path, raw: Path, work: Path) -> dict:
    env = dict(os.environ)
    env.update(DBT_PROFILES_DIR=str(REPO), SEGMENTS_DB=str(db), SEGMENTS_RAW=str(raw),
               DBT_TARGET_PATH=str(work / "target"), DBT_LOG_PATH=str(work / "logs"))
    return env


def dbt_command(*args: str) -> list[str]:
    dbt = Path(sys.executable).with_name("dbt")
    return [str(dbt) if dbt.exists() else "dbt", *args]


def node_times(target: Path) -> dict:
    """Splits run_results.json by what the nodes are: SQL models, Python models, tests, seeds."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    split = {"sql_models_s": 0.0, "python_s": 0.0, "tests_s": 0.0, "seeds_s": 0.0}
    tests = []
    for result in results:
        uid, seconds = result["unique_id"], result["execution_time"]
        node = manifest.get(uid, {})
        kind = uid.split(".", 1)[0]
        if kind == "model" and node.get("language") == "python":
            split["python_s"] += seconds
        elif kind == "model":
            split["sql_models_s"] += seconds
        elif kind in ("test", "unit_test"):
            split["tests_s"] += seconds
            tests.append(seconds)
        elif kind == "seed":
            split["seeds_s"] += seconds
    split["nodes_span_s"] = node_span(results)
    upstream = ancestors(RFM_TIERS_MODEL, manifest)
    split["rfm_sql_s"] = sum(r["execution_time"] for r in results if r["unique_id"] in upstream
                             and manifest[r["unique_id"]].get("language") == "sql")
    split["test_median_s"] = statistics.median(tests) if tests else 0.0
    split["tests"] = len(tests)
    return split


def ancestors(uid: str, nodes: dict) -> set[str]:
    """uid and every model it is built from (seeds and sources excluded)."""
    found, todo = set(), [uid]
    while todo:
        node = todo.pop()
        if node in found or not node.startswith("model."):
            continue
        found.add(node)
        todo += nodes[node]["depends_on"]["nodes"]
    return found


def model_group(node: dict, kind: str) -> str:
    """A node's place in the build: its model folder (intermediate/transactions), or tests/seeds."""
    if kind in ("test", "unit_test"):
        return "tests"
    if kind != "model":
        return kind + "s"
    folder = Path(node["original_file_path"]).parent.parts
    return "/".join(folder[1:]) or "models"


def run_phases(target: Path, wall_s: float) -> dict:
    """The phases of one `make run`: its own clock (preflight, dbt build, publish, summary,
    report), the dbt build split by model folder, and what is outside every phase (make, Python
    start-up). Keys are printed in order."""
    clock = json.loads((target / "run_phases.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    groups: dict[str, float] = {}
    for result in results:
        uid = result["unique_id"]
        group = model_group(manifest.get(uid, {}), uid.split(".", 1)[0])
        groups[group] = groups.get(group, 0.0) + result["execution_time"]
    phases = {"preflight": clock["preflight"], "dbt build": clock["dbt build"]}
    # Nodes overlap (threads), so dbt's own time is the build's wall time minus the nodes' span.
    span = node_span(results)
    phases.update({f"  {group}": seconds for group, seconds in sorted(groups.items(), key=lambda g: -g[1])})
    phases["  dbt start-up, parse, graph (outside nodes)"] = clock["dbt build"] - span
    phases.update(publish=clock["publish"], summary=clock["summary"], report=clock["report"])
    phases["make + Python start-up"] = wall_s - sum(clock.values())
    return phases


def node_span(results: list[dict]) -> float:
    starts, ends = [], []
    for result in results:
        for phase in result.get("timing", []):
            if phase.get("started_at") and phase.get("completed_at"):
                starts.append(datetime.fromisoformat(phase["started_at"].replace("Z", "+00:00")))
                ends.append(datetime.fromisoformat(phase["completed_at"].replace("Z", "+00:00")))
    return (max(ends) - min(starts)).total_seconds() if starts else 0.0


def compare(db: Path, floor: Path, others: dict[str, Path | None] | Path | None = None) -> str:
    """Every customer, value, score and tier of ours and of the others equal to the floor's,
    or BenchError naming the gap (pandas' float sums: monetary within 0.006). `others` may
    also be the pandas contender's file alone (the earlier signature)."""
    if not isinstance(others, dict):
        others = {"pandas": others}
    exact = ["recency_days", "frequency", "r_score", "f_score", "m_score", "rfm_score", "tier"]
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{db}' AS ours (READ_ONLY)")
        con.execute("""
            CREATE TEMP VIEW ours_rfm AS
            SELECT rfm.customer_id, rfm.recency_days, rfm.frequency, rfm.monetary,
                   tiers.r_score, tiers.f_score, tiers.m_score, tiers.rfm_score, tiers.tier
            FROM ours.marts.customer_rfm AS rfm
            JOIN ours.marts.customer_rfm_tiers AS tiers USING (customer_id)""")
        notes = []
        con.execute(f"CREATE TEMP VIEW floor_rfm AS SELECT * FROM '{floor}'")
        pairs = [("ours", "ours_rfm", "floor_rfm", "0")]
        pairs += [(name, f"'{path}'", "floor_rfm", "0.006" if name in PANDAS_WAYS else "0")
                  for name, path in others.items() if path]
        for name, left, right, tolerance in pairs:
            differs = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in exact)
            row = con.execute(f"""
                SELECT count(*),
                       count(*) FILTER (WHERE a.customer_id IS NULL OR b.customer_id IS NULL),
                       count(*) FILTER (WHERE {differs}
                           OR abs(cast(a.monetary AS double) - cast(b.monetary AS double)) > {tolerance}),
                       max(abs(cast(a.monetary AS double) - cast(b.monetary AS double)))
                FROM {left} AS a FULL JOIN {right} AS b USING (customer_id)""").fetchone()
            customers, missing, different, worst = row
            if missing or different:
                raise BenchError(
                    f"{name} and the floor disagree: {missing} customers in only one of them, "
                    f"{different} with different RFM values, scores or tiers (of {customers})")
            notes.append(f"{name} = floor: {customers:,} customers equal (monetary within {worst or 0:.4f})")
        return "; ".join(notes)


def ensure_data(lines: int, seed: int, data_dir: Path) -> Path:
    path = data_dir / f"transactions_{lines}_seed{seed}.csv"
    if path.exists():
        say(f"data: {path} (cached)")
        return path
    from rfm_segments.sample_data import generate

    say(f"data: generating {lines:,} lines ...")
    stats = generate(path, rows=lines, seed=seed)
    say(f"data: {stats['rows']:,} lines, {stats['customers']:,} customers in {stats['seconds']}s")
    return path


def bench_size(lines: int, options: argparse.Namespace, work_root: Path) -> dict:
    say(f"=== {lines:,} lines")
    raw = ensure_data(lines, options.seed, options.data_dir)
    work = work_root / str(lines)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "ours.duckdb"
    row: dict = {"lines": lines, "load_average": " ".join(f"{v:.1f}" for v in os.getloadavg())}
    say(f"machine load (1, 5, 15 min): {row['load_average']}")

    say("ours: dbt build (all models and tests) ...")
    log = work / "dbt_build.log"
    run = measure("dbt build", dbt_command("build"), log, cwd=DBT_PROJECT,
                  env=dbt_env(db, raw, work))
    if run["returncode"] != 0:
        fail("dbt build", run, log)
    nodes = node_times(work / "target")
    with duckdb.connect(str(db), read_only=True) as con:
        (k,) = con.execute("select k from clustering.cluster_k_evaluation where is_chosen").fetchone()
        (customers,) = con.execute("select count(*) from marts.customer_rfm").fetchone()
    row.update(customers=customers, k=k, ours_wall_s=run["wall_s"], ours_peak_mb=run["peak_mb"],
               ours_sql_models_s=nodes["sql_models_s"], ours_python_s=nodes["python_s"],
               ours_tests_s=nodes["tests_s"], ours_seeds_s=nodes["seeds_s"],
               ours_outside_nodes_s=run["wall_s"] - nodes["nodes_span_s"],
               test_median_s=nodes["test_median_s"], tests=nodes["tests"],
               ours_rfm_sql_s=nodes["rfm_sql_s"])
    say(f"ours: {run['wall_s']:.1f}s wall (SQL models {nodes['sql_models_s']:.1f}s, Python "
        f"{nodes['python_s']:.1f}s, {nodes['tests']} tests {nodes['tests_s']:.1f}s), "
        f"peak {run['peak_mb']:,.0f} MB; {customers:,} customers, k={k}")

    row.update(whole_run(raw, work))

    say("floor: one DuckDB query + the same K-Means fit ...")
    floor_out, log = work / "floor.parquet", work / "floor.log"
    run = measure("floor", [sys.executable, str(BENCH / "contenders.py"), "floor", "--data", str(raw),
                            "--out", str(floor_out), "--k", str(k), "--seed", str(options.seed),
                            "--temp-directory", str(work / "floor.tmp")], log)
    if run["returncode"] != 0:
        fail("floor", run, log)
    floor = last_json(log)
    row.update(floor_wall_s=run["wall_s"], floor_peak_mb=run["peak_mb"],
               floor_query_s=floor["query_s"], floor_kmeans_s=floor["kmeans_s"])
    say(f"floor: {run['wall_s']:.1f}s wall (query {floor['query_s']:.1f}s, K-Means "
        f"{floor['kmeans_s']:.1f}s), peak {run['peak_mb']:,.0f} MB")

    notebook_out = None
    if options.skip_pandas_above and lines > options.skip_pandas_above:
        say("notebook: skipped (--skip-pandas-above)")
    else:
        say("notebook: pandas read, clean, RFM, tiers, one K-Means fit ...")
        notebook_out, log = work / "notebook.parquet", work / "notebook.log"
        run = measure("notebook", [sys.executable, str(BENCH / "contenders.py"), "notebook", "--data",
                                   str(raw), "--out", str(notebook_out), "--k", str(k),
                                   "--seed", str(options.seed)],
                      log, rss_cap_mb=options.pandas_memory_cap_gb * 1024)
        if run["killed"] or run["returncode"] in (-9, 137) or (
                run["returncode"] != 0 and "MemoryError" in log.read_text()):
            notebook_out = None
            say(f"notebook: out of memory after {run['wall_s']:.1f}s, peak {run['peak_mb']:,.0f} MB")
        elif run["returncode"] != 0:
            fail("notebook", run, log)
        else:
            result = last_json(log)
            row.update(notebook_wall_s=run["wall_s"], notebook_peak_mb=run["peak_mb"],
                       notebook_rfm_tiers_s=result["read_s"] + result["rfm_tiers_s"],
                       notebook_kmeans_s=result["kmeans_s"])
            say(f"notebook: {run['wall_s']:.1f}s wall (read + RFM + tiers "
                f"{row['notebook_rfm_tiers_s']:.1f}s, K-Means {result['kmeans_s']:.1f}s), "
                f"peak {run['peak_mb']:,.0f} MB")

    pandas_out = None
    if options.skip_pandas_above and lines > options.skip_pandas_above:
        row["pandas_status"] = "not run"
        say("pandas: skipped (--skip-pandas-above)")
    else:
        say("pandas: the notebook way ...")
        pandas_out, log = work / "pandas.parquet", work / "pandas.log"
        command = [sys.executable, str(BENCH / "contenders.py"), "pandas", "--data", str(raw),
                   "--out", str(pandas_out), "--seed", str(options.seed)]
        if options.pandas_silhouette_limit:
            command += ["--silhouette-limit", str(options.pandas_silhouette_limit)]
        run = measure("pandas", command, log, rss_cap_mb=options.pandas_memory_cap_gb * 1024)
        row.update(pandas_wall_s=run["wall_s"], pandas_peak_mb=run["peak_mb"])
        if run["killed"]:
            row["pandas_status"] = f"out of memory (> {options.pandas_memory_cap_gb:g} GB cap)"
            pandas_out = None
        elif run["returncode"] != 0:
            text = log.read_text()
            if "MemoryError" in text or run["returncode"] in (-9, 137):
                row["pandas_status"] = "out of memory"
                pandas_out = None
            else:
                fail("pandas", run, log)
        else:
            result = last_json(log)
            row.update(pandas_status="ok", pandas_rfm_tiers_s=result["read_s"] + result["rfm_tiers_s"],
                       pandas_kmeans_s=result["kmeans_s"],
                       pandas_silhouette_customers=result["silhouette_customers"])
        say(f"pandas: {row['pandas_status']}, {run['wall_s']:.1f}s wall, peak {run['peak_mb']:,.0f} MB")

    say("check: " + compare(db, floor_out, {"notebook": notebook_out, "pandas": pandas_out}))
    row["ours_over_floor"] = row["ours_wall_s"] / row["floor_wall_s"]
    row["sql_over_floor_query"] = row["ours_sql_models_s"] / row["floor_query_s"]
    row["rfm_sql_over_floor_query"] = row["ours_rfm_sql_s"] / row["floor_query_s"]
    if row.get("notebook_wall_s"):
        row["run_over_notebook"] = row["run_wall_s"] / row["notebook_wall_s"]
        row["memory_run_over_notebook"] = row["run_peak_mb"] / row["notebook_peak_mb"]
    if row.get("pandas_status") == "ok":
        row["pandas_over_ours"] = row["pandas_wall_s"] / row["ours_wall_s"]
        row["memory_ours_over_pandas"] = row["ours_peak_mb"] / row["pandas_peak_mb"]
    if not options.keep_work:
        db.unlink(missing_ok=True)
    return row


def whole_run(raw: Path, work: Path) -> dict:
    """`make run DATA=raw` into a fresh warehouse folder, as a user runs it; its phases."""
    say("run: the whole `make run` (preflight, dbt build, publish, summary, report) ...")
    folder = work / "run"
    env = dict(os.environ, SEGMENTS_DB=str(folder / "segments.duckdb"),
               DBT_TARGET_PATH=str(folder / "target"), DBT_LOG_PATH=str(folder / "logs"))
    env.pop("SEGMENTS_SERVING_DIR", None)
    log = work / "make_run.log"
    run = measure("make run", ["make", "--no-print-directory", "run", f"DATA={raw}"], log, env=env)
    if run["returncode"] != 0:
        fail("make run", run, log)
    phases = run_phases(folder / "target", run["wall_s"])
    say(f"run: {run['wall_s']:.1f}s wall, peak {run['peak_mb']:,.0f} MB (every process); phases:")
    for phase, seconds in phases.items():
        print(f"    {phase:<48}{seconds:>8.1f} s", flush=True)
    return {"run_wall_s": run["wall_s"], "run_peak_mb": run["peak_mb"],
            "run_phases": json.dumps({k.strip(): round(v, 2) for k, v in phases.items()})}


def fixed_costs(work_root: Path, raw: Path) -> dict:
    """dbt parse from a cold target folder (a fresh clone; the bench's builds pay it too),
    then again warm (partial parsing: every later `make run`)."""
    work = work_root / "parse"
    shutil.rmtree(work, ignore_errors=True)
    times = {}
    for key, label in (("dbt_parse_s", "cold"), ("dbt_parse_warm_s", "warm")):
        log = work / f"dbt_parse_{label}.log"
        run = measure(f"dbt parse ({label})", dbt_command("parse"), log, cwd=DBT_PROJECT,
                      env=dbt_env(work / "unused.duckdb", raw, work))
        if run["returncode"] != 0:
            fail("dbt parse", run, log)
        times[key] = run["wall_s"]
    say(f"fixed costs: dbt parse {times['dbt_parse_s']:.1f}s cold, "
        f"{times['dbt_parse_warm_s']:.1f}s warm (partial parsing)")
    return times


def k_selection(customers: int, work_root: Path, seed: int) -> dict:
    say(f"Python step alone: k selection + final fit on {customers:,} synthetic customers ...")
    log = work_root / "kselect.log"
    run = measure("k selection", [sys.executable, str(BENCH / "contenders.py"), "kselect",
                                  "--customers", str(customers), "--seed", str(seed)], log)
    if run["returncode"] != 0:
        fail("k selection", run, log)
    result = last_json(log)
    say(f"Python step alone: k selection {result['k_selection_s']:.1f}s, final fit "
        f"{result['final_fit_s']:.1f}s (k={result['k']}), peak {run['peak_mb']:,.0f} MB")
    return {"kselect_customers": customers, "kselect_s": result["k_selection_s"],
            "kselect_final_fit_s": result["final_fit_s"], "kselect_peak_mb": run["peak_mb"]}


def fmt(value, digits: int = 1) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_table(rows: list[dict]) -> None:
    columns = [
        ("lines", "lines", 0), ("customers", "customers", 0), ("make run s", "run_wall_s", 1),
        ("notebook s", "notebook_wall_s", 1), ("run/notebook", "run_over_notebook", 2),
        ("run MB", "run_peak_mb", 0), ("notebook MB", "notebook_peak_mb", 0),
        ("mem run/notebook", "memory_run_over_notebook", 2), ("ours s", "ours_wall_s", 1),
        ("SQL s", "ours_sql_models_s", 1), ("Python s", "ours_python_s", 1),
        ("tests s", "ours_tests_s", 1), ("floor s", "floor_wall_s", 1),
        ("query s", "floor_query_s", 1), ("pandas s", "pandas_wall_s", 1),
        ("RFM SQL s", "ours_rfm_sql_s", 1), ("RFM SQL/query", "rfm_sql_over_floor_query", 2),
        ("ours/floor", "ours_over_floor", 2), ("SQL/query", "sql_over_floor_query", 2),
        ("pandas/ours", "pandas_over_ours", 2), ("ours MB", "ours_peak_mb", 0),
        ("pandas MB", "pandas_peak_mb", 0), ("mem ours/pandas", "memory_ours_over_pandas", 2),
    ]
    table = [[title for title, _, _ in columns]]
    table += [[fmt(row.get(key), digits) for _, key, digits in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    print()
    for line in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths)))
    print()


def check_targets(rows: list[dict]) -> None:
    """Says which of issue 15's targets this run meets (informative, never fails the run)."""
    print("Targets (issue 15):")
    for row in rows:
        lines = row["lines"]
        checks = []
        if lines == 10_000_000:
            checks += [
                ("make run <= 1.0x the bare notebook", row.get("run_over_notebook"), lambda v: v <= 1.0),
                ("make run peak memory <= 0.5x notebook's", row.get("memory_run_over_notebook"), lambda v: v <= 0.5),
                ("clean + RFM + tiers SQL <= 1.2x floor query", row.get("rfm_sql_over_floor_query"), lambda v: v <= 1.2),
            ]
        if lines >= 100_000_000:
            checks += [
                ("dbt build <= 1.5x the floor", row.get("ours_over_floor"), lambda v: v <= 1.5),
                ("make run < 300 s", row.get("run_wall_s"), lambda v: v < 300),
                ("make run peak memory < 24 GB (MB)", row.get("run_peak_mb"), lambda v: v < 24 * 1024),
            ]
        for name, value, ok in checks:
            verdict = "n/a" if value is None else ("met" if ok(value) else "MISSED")
            print(f"  {lines:>12,} lines  {name:<44} {fmt(value, 2):>9}  {verdict}")
    growth = [r for r in rows if r.get("run_wall_s")]
    for small, large in zip(growth, growth[1:]):
        scale = large["lines"] / small["lines"]
        print(f"  growth {small['lines']:,} -> {large['lines']:,} lines (x{scale:g}): make run "
              f"x{large['run_wall_s'] / small['run_wall_s']:.1f}, dbt build x{large['ours_wall_s'] / small['ours_wall_s']:.1f}, "
              f"floor x{large['floor_wall_s'] / small['floor_wall_s']:.1f}; customers "
              f"x{large['customers'] / small['customers']:.1f}")
    row = rows[0]
    if row.get("kselect_s") is not None:
        verdict = "met" if row["kselect_s"] < 60 else "MISSED"
        print(f"  k selection on {row['kselect_customers']:,} customers < 60s: "
              f"{row['kselect_s']:.1f}s  {verdict}")


def append_csv(rows: list[dict], path: Path) -> None:
    """Appends rows; a file written with other columns (an older bench) is rewritten first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    previous: list[dict] = []
    if path.exists():
        with open(path, newline="") as source:
            reader = csv.DictReader(source)
            previous = list(reader)
            same_columns = reader.fieldnames == FIELDS
        if same_columns:
            previous = []
    mode = "a" if path.exists() and not previous else "w"
    with open(path, mode, newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore")
        if mode == "w":
            writer.writeheader()
        writer.writerows(previous)
        for row in rows:
            writer.writerow({key: (f"{value:.3f}" if isinstance(value, float) else value)
                             for key, value in row.items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="input lines per run (default: 1M and 10M)")
    parser.add_argument("--seed", type=int, default=project_vars()["cluster_seed"],
                        help="seed of the generated data and of the contenders' K-Means (default: var cluster_seed, as the build)")
    parser.add_argument("--data-dir", type=Path, default=REPO / "data" / "bench",
                        help="where generated files are cached")
    parser.add_argument("--work-dir", type=Path, default=REPO / "data" / "bench" / "work")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--kselect-customers", type=int, default=1_000_000,
                        help="customers for the Python-step probe (0 skips it)")
    parser.add_argument("--pandas-silhouette-limit", type=int, default=20_000,
                        help="customers the notebook's silhouette may use (0 = all: quadratic)")
    parser.add_argument("--pandas-memory-cap-gb", type=float, default=20,
                        help="stop pandas above this memory (PSS) and record it as out of memory")
    parser.add_argument("--skip-pandas-above", type=int, default=0,
                        help="do not run pandas on inputs larger than this many lines")
    parser.add_argument("--memory-limit", default=None,
                        help="DuckDB memory_limit for ours and the floor (default: the profile's)")
    parser.add_argument("--no-record", action="store_true", help="do not touch results.csv/.svg")
    parser.add_argument("--keep-work", action="store_true", help="keep the DuckDB files")
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                        help="spark: the Spark build beside DuckDB's (bench/spark_bench.py, its own options)")
    options, _ = parser.parse_known_args(argv)
    if options.engine == "spark":
        from spark_bench import main as spark_main

        return spark_main(argv)
    options = parser.parse_args(argv)
    for folder in ("data_dir", "work_dir", "results_dir"):  # dbt runs in dbt_project/
        setattr(options, folder, getattr(options, folder).resolve())
    if options.memory_limit:  # read by profiles.yml and by contenders.py floor
        os.environ["SEGMENTS_MEMORY_LIMIT"] = options.memory_limit
    try:
        from chart import write_chart

        work_root = options.work_dir
        work_root.mkdir(parents=True, exist_ok=True)
        limit = os.environ.get("SEGMENTS_MEMORY_LIMIT", "16GB (profile default)")
        say(f"machine: {machine()}; sizes: {', '.join(f'{s:,}' for s in options.sizes)}; "
            f"DuckDB memory_limit {limit}")
        first = ensure_data(min(options.sizes), options.seed, options.data_dir)
        shared = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
                  "machine": machine(), "memory_limit": os.environ.get("SEGMENTS_MEMORY_LIMIT", ""), **fixed_costs(work_root, first)}
        if options.kselect_customers:
            shared.update(k_selection(options.kselect_customers, work_root, options.seed))
        rows = [{**shared, **bench_size(lines, options, work_root)} for lines in options.sizes]
        print_table(rows)
        check_targets(rows)
        if not options.no_record:
            csv_path = options.results_dir / "results.csv"
            append_csv(rows, csv_path)
            chart = write_chart(csv_path, options.results_dir / "results.svg")
            say(f"results appended to {csv_path}; chart {chart}")
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
