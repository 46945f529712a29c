"""Command line: `python -m rfm_segments run|sample|publish|summary|report|query`.

`run` is what `make run` calls: sample data (unless --data), a preflight of the input file
(rfm_segments.ingest), `dbt build`, then a summary of
what was built and how to look at it. Errors are one clear line on stderr and a non-zero exit.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import yaml

from rfm_segments import bi_registry, dbt_invocations, ingest, publish

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DEFAULT_DB = REPO / "warehouse" / "segments.duckdb"
#: Seconds per phase of the last `run`, in dbt's target folder beside run_results.json (make bench reads it).
RUN_PHASES_FILE = "run_phases.json"


class PipelineError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


def dbt_env(db: Path, raw: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(REPO),
        SEGMENTS_DB=str(db),
        SEGMENTS_RAW=str(raw),
        SEGMENTS_PUBLISHER="make-run",  # the on-run-end hook leaves publishing to command_run
    )
    return env


def sample_path(rows: int, seed: int) -> Path:
    return REPO / "data" / "sample" / f"online_retail_{rows}_seed{seed}.csv"


def ensure_sample(rows: int, seed: int) -> Path:
    """The embedded sample, generated on first use (the default sample is what plain `dbt build` reads)."""
    raw = sample_path(rows, seed)
    if raw.exists():
        print(f"==> sample data: {raw} (already generated)", flush=True)
    else:
        from rfm_segments.sample_data import generate

        print(f"==> generating {rows:,} sample lines (seed {seed}) ...", flush=True)
        generate(raw, rows=rows, seed=seed)
    return raw


def dbt_log(env: dict[str, str] | None = None) -> Path:
    """dbt's own log file (every message, debug level included): $DBT_LOG_PATH or dbt_project/logs."""
    folder = Path((env or os.environ).get("DBT_LOG_PATH") or DBT_PROJECT / "logs")
    return (folder if folder.is_absolute() else DBT_PROJECT / folder) / "dbt.log"


def run_dbt(args: list[str], db: Path, raw: Path) -> None:
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt) if dbt.exists() else "dbt", *args]
    print(f"==> dbt {' '.join(args)}", flush=True)
    env = dbt_env(db, raw)
    # dbt's output goes to the terminal as it comes, and is kept for the one-line diagnosis.
    process = subprocess.Popen(command, cwd=DBT_PROJECT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace")
    output = []
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        output.append(line)
    returncode = process.wait()
    if returncode != 0:
        text = "".join(output)
        if "No space left on device" in text or "disk is full" in text.lower():
            raise PipelineError(f"the disk holding {db.parent} is full (dbt {args[0]} stopped): free space "
                                f"or move the warehouse with SEGMENTS_DB=...; dbt's log: {dbt_log(env)}")
        lock = lock_holder(text)
        if lock:
            raise PipelineError(warehouse_locked_message(db, lock))
        raise PipelineError(f"dbt {args[0]} failed (exit {returncode}); see the dbt output above "
                            f"or dbt's log {dbt_log(env)}")


def lock_holder(error_text: str) -> int | None:
    """The process id in DuckDB's 'Could not set lock on file ... (PID 1234)' error, if any."""
    if "Could not set lock" not in error_text:
        return None
    found = re.search(r"PID (\d+)", error_text)
    return int(found.group(1)) if found else 0


def warehouse_locked_message(db: Path, pid: int) -> str:
    holder = "another process"
    if pid:
        try:
            holder = f"process {pid} ({' '.join(Path(f'/proc/{pid}/cmdline').read_text().split(chr(0))).strip()[:80]})"
        except OSError:
            holder = f"process {pid}"
    return (f"the warehouse {db} is open in {holder}: close it (a notebook, DBeaver, a BI tool; those "
            f"should read the published copy in {publish.serving_dir(db)}) and run again")


def check_warehouse_writable(db: Path) -> None:
    """A read-only or missing folder, or a warehouse another process holds: one line, before dbt."""
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PipelineError(f"cannot create the warehouse folder {db.parent}: {error.strerror}") from None
    probe = db.parent / f".{db.name}.write-check"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:  # read-only mount, or no permission
        raise PipelineError(f"cannot write in the warehouse folder {db.parent}: {error.strerror} "
                            "(choose a writable place with SEGMENTS_DB=...)") from None
    if db.exists():
        try:
            duckdb.connect(str(db)).close()
        except duckdb.Error as error:
            pid = lock_holder(str(error))
            if pid is None:
                raise
            raise PipelineError(warehouse_locked_message(db, pid)) from None


@contextmanager
def one_run_at_a_time(db: Path) -> Iterator[None]:
    """A second run on the same warehouse is refused in one line (the first keeps going)."""
    import fcntl

    lock_path = db.parent / f".{db.name}.run.lock"
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            pid = lock.read().strip() or "?"
            raise PipelineError(f"another run (process {pid}) is building {db}: wait for it to end, "
                                "or build elsewhere with SEGMENTS_DB=...") from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def two_decimals(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def command_run(options: argparse.Namespace) -> None:
    db = Path(options.db).resolve()
    if options.engine == "spark":
        return build_on_spark(options, db)
    check_warehouse_writable(db)
    with one_run_at_a_time(db):
        build_and_publish(options, db)


def build_on_spark(options: argparse.Namespace, db: Path) -> None:
    """`run --engine spark` (docs/spark.md): the same preflight and vars, built on Spark."""
    from rfm_segments import spark_engine

    spark_dir = Path(os.environ.get("SEGMENTS_SPARK_DIR") or db.parent / "spark").resolve()
    spark_dir.mkdir(parents=True, exist_ok=True)
    with one_run_at_a_time(spark_dir / "catalog"):  # Derby: one process per metastore
        if options.data and spark_engine.is_cluster_path(options.data):
            dbt_vars = {**spark_engine.cluster_input_vars(options.data, options.columns, options.date_format),
                        **customer_vars(options, db), **run_vars(options)}
        else:
            _, dbt_vars = prepare_input(options, db)
        os.environ.setdefault("DBT_PROFILES_DIR", str(REPO))
        try:
            made = spark_engine.build(dbt_vars, DBT_PROJECT, spark_dir)
        except spark_engine.SparkEngineError as error:
            raise PipelineError(str(error)) from None
        publish_spark_build(options, db, made, spark_dir)


def publish_spark_build(options: argparse.Namespace, db: Path, made, spark_dir: Path) -> None:
    """The end of `run --engine spark`: published for BI as after a DuckDB build (the same summary
    and report, from the published marts), else the Spark summary and why not (rfm_segments.spark_publish)."""
    from rfm_segments import spark_engine, spark_publish

    serving = publish.serving_dir(db, options.serving_dir)
    started = time.monotonic()
    try:
        outcome = spark_publish.publish_from_spark(spark_engine.spark_session(), bi_registry.target_dir(DBT_PROJECT),
                                                   spark_dir, serving)
    except publish.PublishError as error:
        raise PipelineError(f"{error}. {publish.kept_note(serving)}") from None
    made.seconds["staging and publishing for BI"] = time.monotonic() - started
    if outcome.publication is None:
        spark_engine.print_summary(made, spark_dir)
        print(f"\n{outcome.why_not()}")
        return
    print_summary(outcome.publication.database)
    print(f"\n{outcome.publication.describe()}")
    print(spark_engine.spark_build_notes(made, spark_dir))
    write_report(outcome.publication.database, Path(options.report) if options.report else report_path(db))


def prepare_input(options: argparse.Namespace, db: Path) -> tuple[ingest.PreparedInput, dict]:
    """The input file (the sample unless --data) after the preflight, and the dbt vars to build it."""
    raw = Path(options.data) if options.data else ensure_sample(options.rows, options.seed)
    # Preflight: a bad file or option stops here, before dbt touches the warehouse.
    prepared = ingest.prepare(raw, columns=options.columns, date_format=options.date_format,
                              work_dir=db.parent)
    for note in prepared.notes:
        print(f"==> {note}", flush=True)
    return prepared, {**prepared.dbt_vars, **customer_vars(options, db), **run_vars(options)}


def customer_vars(options: argparse.Namespace, db: Path) -> dict:
    """The dbt vars of --customers (after its preflight) and --cluster-on-attributes."""
    found = {}
    if options.customers:
        customers = ingest.prepare_customers(options.customers, columns=options.customer_columns, work_dir=db.parent)
        for note in customers.notes:
            print(f"==> {note}", flush=True)
        print(f"==> customer attributes: {customers.path} (id column {customers.mapping['customer_id']})", flush=True)
        found = customers.dbt_vars
    if options.cluster_on_attributes:
        found["cluster_on_attributes"] = True
    return found


class PhaseClock:
    """Wall seconds per phase of a run, so a slow run points at its phase (make bench prints them)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(now - self._last, 3)
        self._last = now

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RUN_PHASES_FILE).write_text(json.dumps(self.phases) + "\n")


def build_and_publish(options: argparse.Namespace, db: Path) -> None:
    clock = PhaseClock()
    prepared, dbt_vars = prepare_input(options, db)
    clock.done("preflight")
    # BI reads a copy published only after a build whose tests all passed (publish.py).
    serving = publish.serving_dir(db, options.serving_dir)
    target = bi_registry.target_dir(DBT_PROJECT)
    try:
        try:
            run_dbt(["build", "--vars", json.dumps(dbt_vars)], db, prepared.path)
        except PipelineError:
            message = ingest.all_rejected_message(db)
            if message:
                raise PipelineError(message) from None
            raise
        clock.done("dbt build")
        publication = publish.publish(db, serving, target, dbt_invocation_id=publish.dbt_invocation_id(target))
        clock.done("publish")
    except (PipelineError, publish.PublishError) as error:
        raise PipelineError(f"{error}. {publish.kept_note(serving)}") from None
    print_summary(publication.database)
    print(f"\n{publication.describe()}")
    clock.done("summary")
    write_report(publication.database, Path(options.report) if options.report else report_path(db))
    clock.done("report")
    clock.write(target)


def run_vars(options: argparse.Namespace) -> dict:
    """The user's --vars (a YAML mapping)."""
    extra_vars = yaml.safe_load(options.vars) if options.vars else {}
    if not isinstance(extra_vars, dict):
        raise PipelineError(f"--vars must be a YAML mapping such as '{{n_clusters: 5}}', not {options.vars!r}")
    return extra_vars


def published_database(db: Path) -> Path:
    """What every reader opens: the copy published after the last build whose tests all passed,
    never the file dbt writes, which a failed or killed build can leave half replaced."""
    path = publish.serving_dir(db) / publish.SERVING_FILE
    if not path.exists():
        raise PipelineError(f"warehouse not found: nothing published in {path.parent} yet (run `make run` first)")
    return path


def command_publish(options: argparse.Namespace) -> None:
    """Publishes for BI what plain `dbt build` built, if its last build was full and passed."""
    db = Path(options.db).resolve()
    serving = publish.serving_dir(db, options.serving_dir)
    if not db.exists():
        raise PipelineError(f"no warehouse at {db}: run `dbt build` (or `make run`) first")
    invocation = dbt_invocations.latest(db)
    problem = dbt_invocations.why_not_publishable(invocation)
    try:
        if problem:
            raise PipelineError(f"not published: {problem}")
        # The manifest of the project that built it says what BI sees (rfm_segments.bi_registry).
        publication = publish.publish(db, serving, bi_registry.target_dir(Path(options.dbt_project)),
                                      dbt_invocation_id=invocation.invocation_id)
    except (PipelineError, publish.PublishError) as error:
        raise PipelineError(f"{error}. {publish.kept_note(serving)}") from None
    print(publication.describe())


def report_path(db: Path) -> Path:
    """The report sits next to its warehouse: warehouse/segments.duckdb -> warehouse/segments_report.html."""
    return db.with_name(f"{db.stem}_report.html")


def write_report(db: Path, out: Path) -> None:
    from rfm_segments.report import ReportError, render_report

    try:
        path = render_report(db, out.resolve())
    except ReportError as error:
        raise PipelineError(str(error)) from None
    print(f"Report: {path}  (open it in a browser; works offline)")


def print_summary(db: Path) -> None:
    """`db`: the published copy."""
    from rfm_segments.clustering import STABLE_JACCARD  # scikit-learn: imported only when needed
    with duckdb.connect(str(db), read_only=True) as con:
        def rows(sql: str) -> list[tuple]:
            return con.sql(sql).fetchall()

        read = rows("select sum(rows) from marts.data_quality_summary")[0][0]
        valid = rows("select rows from marts.data_quality_summary where outcome = 'valid'")[0][0]
        (customers, as_of), = rows("select count(*), max(as_of_date) from marts.customer_segments")
        print()
        print(f"Built RFM segments for {customers:,} customers as of {as_of}.")
        print(f"Rows read {read:,}, valid {valid:,}, rejected {read - valid:,}"
              + (" by reason:" if read > valid else "."))
        for reason, count in rows(
            "select outcome, rows from marts.data_quality_summary "
            "where outcome <> 'valid' and rows > 0 order by rows desc"
        ):
            print(f"  {reason:<26}{count:>12,}")
        print("\nCustomers per tier:")
        for tier, count, revenue in rows(
            "select tier, count(*), sum(monetary) from marts.customer_segments "
            "group by tier, tier_rank order by tier_rank desc"
        ):
            print(f"  {tier:<26}{count:>12,}   revenue {revenue:>16,.2f}")
        (k, reason), = rows("select k, choice_reason from clustering.cluster_k_evaluation where is_chosen")
        print(f"\nK-Means clusters: k={k} ({reason})")
        (silhouette, sample), = rows(
            "select silhouette, silhouette_sample_size from clustering.cluster_k_evaluation where is_chosen"
        )
        (refit_ari, resamples), = rows(
            "select max(refit_ari_mean), max(n_resamples) from clustering.cluster_stability"
        )
        unstable = [name for name, in rows(
            "select segment_name from marts.segment_profiles where not is_stable order by cluster_id"
        )]
        print(f"Evidence: silhouette {two_decimals(silhouette)} (sample of {sample:,}); stability over {resamples} refits: "
              f"ARI {two_decimals(refit_ari)}, " + (f"unstable (Jaccard < {STABLE_JACCARD}): {', '.join(unstable)}"
                                          if unstable else f"every cluster stable (Jaccard >= {STABLE_JACCARD})"))
        for cluster_id, name, count, share, jaccard in rows(
            "select cluster_id, segment_name, customers, revenue_share, stability_jaccard "
            "from marts.segment_profiles order by cluster_id"
        ):
            print(f"  {cluster_id:>2}  {name:<30}{count:>10,} customers, {share:6.1%} of revenue, "
                  f"stability {two_decimals(jaccard)}")
        (ari, cramers_v), = rows(
            "select adjusted_rand_index, cramers_v from marts.segmentation_agreement "
            "where segmentation_a = 'tier' and segmentation_b = 'cluster'"
        )
        print(f"\nTiers vs clusters: adjusted Rand index {two_decimals(ari)}, Cramer's V {two_decimals(cramers_v)}")
        agreement = rows(
            "select segmentation_a, segmentation_b, adjusted_rand_index from marts.segmentation_agreement "
            "where segmentation_b = 'named_segment' order by segmentation_a desc"
        )
        print("Named RFM segments vs " + ", vs ".join(f"{a}s: ARI {two_decimals(value)}" for a, _, value in agreement))
        (snapshots, first, last), = rows(
            "select count(distinct snapshot_date), min(snapshot_date), max(snapshot_date) "
            "from marts.customer_segment_history"
        )
        latest = rows("select recommendation, reason from marts.model_retraining_checks "
                      "order by snapshot_date desc limit 1")
        if snapshots:
            check = f"; latest model check: {latest[0][0]} ({latest[0][1]})" if latest else ""
            print(f"Over time: {snapshots} snapshots from {first} to {last}{check}")
        print_backtest(rows)
        print_clv(rows)
        print_attributes(rows)
        published = [f"{schema}.{name}" for schema, name in rows(
            f"select table_schema, table_name from serving.{publish.PUBLICATION_TABLE} order by all"
        )]
    print(f"\nPublished build: {db}")
    # The tables are the dbt models with access: public (rfm_segments.bi_registry), as published.
    print(textwrap.fill(", ".join(published), width=100, initial_indent=f"Tables ({len(published)}): ",
                        subsequent_indent="       "))
    print('Query:  make query SQL="select * from marts.segment_profiles"')


LENS_LABELS = {"tier": "tiers", "cluster": "clusters", "named_segment": "named segments"}


def print_backtest(rows) -> None:
    """The latest complete backtest period: what each lens explains and contradicted strategies."""
    explained = rows(
        "select lens, min(snapshot_date), max(horizon_days), max(lens_explained_share) "
        "from marts.segment_backtest where is_latest_complete_period group by lens order by lens desc"
    )
    if not explained:
        print("Backtest: no snapshot has a complete following period yet (var backtest_horizon_days)")
        return
    (_, snapshot, horizon, _) = explained[0]
    print(f"Backtest, the {horizon} days after {snapshot}: next-period spend explained (eta squared of "
          "log spend) by " + ", ".join(f"{LENS_LABELS[lens]} " + ("n/a (no variation)" if share is None else f"{share:.2f}")
                             for lens, _, _, share in explained))
    contradicted = rows(
        "select lens, segment, rebuy_rate, premise_max_rebuy_rate, strategy_premise from marts.segment_backtest "
        "where is_latest_complete_period and strategy_contradicted order by lens, segment"
    )
    for lens, segment, rate, limit, premise in contradicted:
        print(f"  STRATEGY CONTRADICTED: {lens} {segment!r} re-bought at {rate:.1%} (premise allows "
              f"{limit:.0%}): \"{premise}\"; see marts.segment_backtest")


def print_clv(rows) -> None:
    """Expected value and churn risk: whether each fit worked and whether it beats the naive baseline."""
    for purpose, status, reason, horizon, customers, seconds in rows(
        "select fit_purpose, fit_status, fit_reason, horizon_days, customers, fit_seconds "
        "from marts.clv_fit_status order by fit_purpose desc"
    ):
        if status != "fitted":
            print(f"CLV ({purpose} fit): {status}, predictions left empty: {reason}")
        elif purpose == "current":
            ((revenue, churn),) = rows("select sum(expected_revenue), avg(churn_risk) from marts.customer_clv")
            print(f"CLV (BG/NBD + Gamma-Gamma, {customers:,} customers, {seconds:.0f} s): expected revenue "
                  f"in the next {horizon} days {revenue:,.2f}, mean churn risk {churn:.1%}; see marts.customer_clv")
    for snapshot, horizon, model, baseline, beats, spend_model, spend_baseline, beats_spend in rows(
        "select snapshot_date, horizon_days, model_purchases_mae, baseline_purchases_mae, "
        "model_beats_baseline_on_purchases, model_spend_mae, baseline_spend_mae, model_beats_baseline_on_spend "
        "from marts.clv_backtest where model_purchases_mae is not null"
    ):
        verdict = {True: "beats", False: "does NOT beat"}
        print(f"CLV backtest, the {horizon} days after {snapshot}: the model {verdict[beats]} the naive "
              f"baseline on purchases (MAE {model:.3f} vs {baseline:.3f}) and {verdict[beats_spend]} it on "
              f"spend (MAE {spend_model:,.2f} vs {spend_baseline:,.2f}); see marts.clv_backtest")


def print_attributes(rows) -> None:
    """Who is in each segment: the attributes profiled, rows of the attributes file not used, and
    each cluster's most distinguishing attribute values."""
    attributes = rows("select attribute_name, any_value(attribute_type) from marts.segment_attribute_profiles "
                      "group by 1 order by 1")
    print("\nCustomer attributes profiled: " + ", ".join(f"{name} ({kind})" for name, kind in attributes)
          + "; see marts.segment_attribute_profiles")
    features = rows("select count(feature_column), count(distinct attribute_name), any_value(weight) "
                    "from clustering.cluster_attribute_features")
    if features and features[0][1]:
        (columns, names, weight), = features
        print(f"  clustered on behaviour + {names} attributes ({columns} feature columns, weight {weight:g}), "
              "the served segments too; see clustering.cluster_attribute_features and "
              "clustering.cluster_model_attribute_centres")
    for reason, count in rows("select reject_reason, count(*) from marts.rejected_customer_attributes "
                              "group by 1 order by 2 desc, 1"):
        print(f"  attribute rows not used, {reason}: {count:,} (marts.rejected_customer_attributes)")
    for cluster_id, name, text in rows("select cluster_id, segment_name, distinguishing_attributes "
                                       "from marts.segment_profiles where distinguishing_attributes is not null "
                                       "order by cluster_id"):
        print(f"  {cluster_id:>2}  {name}: {text}")


def command_query(options: argparse.Namespace) -> None:
    with duckdb.connect(str(published_database(Path(options.db).resolve())), read_only=True) as con:
        con.sql(options.sql).show(max_width=200, max_rows=options.limit)


def command_crm_sample(options: argparse.Namespace) -> None:
    from rfm_segments.sample_crm import generate_customer_attributes

    planted = generate_customer_attributes(Path(options.data), Path(options.out), seed=options.seed)
    print(f"==> wrote {options.out}: {planted.customers:,} customers, {len(planted.planted_ids):,} of them "
          f"planted ({planted.description})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rfm_segments", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("SEGMENTS_DB") or str(DEFAULT_DB),
                        help="DuckDB warehouse file (default: warehouse/segments.duckdb or $SEGMENTS_DB)")
    commands = parser.add_subparsers(dest="command", required=True)
    # Options shared by several commands; the sample defaults name the file plain `dbt build`
    # reads (var sample_raw_path in dbt_project.yml; tests/dbt_cli checks they agree).
    sample_options = argparse.ArgumentParser(add_help=False)
    sample_options.add_argument("--rows", type=int, default=500_000, help="sample size in lines")
    sample_options.add_argument("--seed", type=int, default=42, help="sample generator seed")
    serving_options = argparse.ArgumentParser(add_help=False)
    serving_options.add_argument("--serving-dir", help="where BI reads the published marts "
                                 "(default: serving/ beside the warehouse file, or $SEGMENTS_SERVING_DIR)")

    run = commands.add_parser("run", parents=[sample_options, serving_options],
                              help="generate or read the data, dbt build, summarise")
    run.add_argument("--data", help="your transactions file (default: the embedded sample)")
    run.add_argument("--columns", help="canonical=yours, comma-separated, e.g. 'customer_id=cust_no,amount=total'")
    run.add_argument("--date-format", help="strptime format of non-ISO dates, e.g. '%%d/%%m/%%Y %%H:%%M'")
    run.add_argument("--customers", help="optional customer attributes file (CRM export): one row per "
                     "customer id, any attribute columns (docs/customer-attributes.md)")
    run.add_argument("--customer-columns", help="the attributes file's id column, e.g. 'customer_id=crm_no'")
    run.add_argument("--cluster-on-attributes", action="store_true",
                     help="cluster on behaviour + customer attributes (k evidence and the fresh fit; "
                          "dbt var cluster_on_attributes; docs/customer-attributes.md)")
    run.add_argument("--vars", help="extra dbt vars, as YAML, e.g. '{n_clusters: 5}'")
    run.add_argument("--report", help="where the HTML report goes (default: next to the warehouse)")
    run.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                     help="duckdb (default, embedded) or spark (local Spark, or a cluster via SPARK_REMOTE; "
                          "docs/spark.md; needs the .[spark] extra)")
    run.set_defaults(handler=command_run)

    sample = commands.add_parser("sample", parents=[sample_options],
                                 help="generate the embedded sample (what plain `dbt build` reads)")
    sample.set_defaults(handler=lambda options: ensure_sample(options.rows, options.seed))

    publish_command = commands.add_parser("publish", parents=[serving_options],
                                          help="publish for BI what the last full, passing `dbt build` wrote")
    publish_command.add_argument("--dbt-project", default=str(DBT_PROJECT),
                                 help="the dbt project folder whose target/manifest.json lists the public models "
                                 "(default: this repository's dbt_project; $DBT_TARGET_PATH is honoured)")
    publish_command.set_defaults(handler=command_publish)

    summary = commands.add_parser("summary", help="summarise a built warehouse")
    summary.set_defaults(handler=lambda options: print_summary(published_database(Path(options.db).resolve())))

    report = commands.add_parser("report", help="render the HTML report from a built warehouse")
    report.add_argument("--out", help="HTML file to write (default: next to the warehouse)")
    report.set_defaults(handler=lambda options: write_report(
        published_database(Path(options.db).resolve()),
        Path(options.out) if options.out else report_path(Path(options.db).resolve())))

    crm = commands.add_parser("crm-sample", help="generate a seeded customer attributes file for a "
                              "transactions file (planted: frequent buyers skew to one age band and occupation)")
    crm.add_argument("--data", required=True, help="the transactions file whose customers get attributes")
    crm.add_argument("--out", required=True, help="the CSV to write")
    crm.add_argument("--seed", type=int, default=7)
    crm.set_defaults(handler=command_crm_sample)

    query = commands.add_parser("query", help="run one SQL query against the warehouse")
    query.add_argument("sql")
    query.add_argument("--limit", type=int, default=40)
    query.set_defaults(handler=command_query)

    return parser


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    try:
        options.handler(options)
    except (PipelineError, ingest.InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except duckdb.Error as error:
        pid = lock_holder(str(error))
        message = warehouse_locked_message(Path(options.db).resolve(), pid) if pid is not None else str(error).splitlines()[0]
        print(f"error: {message}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        print(f"error: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; readers keep the last published build, and the next run starts over",
              file=sys.stderr)
        return 130
    except Exception as error:  # a bug: one line here, the traceback in a file
        log = Path(options.db).resolve().parent / "rfm_segments-error.log"
        try:
            log.write_text(traceback.format_exc())
            where = f"traceback in {log}; "
        except OSError:
            where = ""
        print(f"error: unexpected {type(error).__name__}: {ingest.first_error_line(error)} "
              f"({where}please report it)", file=sys.stderr)
        return 1
    return 0
