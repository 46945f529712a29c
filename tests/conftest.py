"""Shared fixtures: real dbt builds into temporary DuckDB files."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


#: Fixtures a `fast` test may use: the one small session build and what it is made of.
SESSION_BUILD_FIXTURES = {"sample_db", "query", "sample_csv", "tmp_path_factory", "request"}


def pytest_collection_modifyitems(config, items):
    """Test tiers (docs/testing.md; markers registered in pyproject.toml). `unit`: tests/python,
    the package without dbt. `fast`: tests that only read the session's one small build (fixture
    sample_db or query) and build nothing else. `make test-fast` runs both; `make test` runs all."""
    unit_folder = Path(__file__).parent / "python"
    for item in items:
        if unit_folder in Path(item.fspath).parents:
            item.add_marker(pytest.mark.unit)
        parameters = set(item.callspec.params) if hasattr(item, "callspec") else set()
        fixtures = set(item.fixturenames) - parameters
        if (fixtures & {"sample_db", "query"} and fixtures <= SESSION_BUILD_FIXTURES
                and not item.get_closest_marker("superset")):
            item.add_marker(pytest.mark.fast)


def shared_data(name: str) -> Path:
    """A real data file from <repo>/../shared/data; the test is skipped where there is none (a clone)."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"real data file {path} is not here (tests look for it in <repo>/../shared/data)")
    return path


def run_pipeline(tmp: Path, *args: str, db_name: str = "segments.duckdb") -> subprocess.CompletedProcess:
    """Runs `python -m rfm_segments --db <tmp>/<db_name> <args>` with its own dbt target folder."""
    env = dict(os.environ)
    env.update(DBT_TARGET_PATH=str(tmp / "target"), DBT_LOG_PATH=str(tmp / "logs"))
    env.pop("SEGMENTS_SERVING_DIR", None)  # publish beside the temporary warehouse, never to the user's
    return subprocess.run(
        [sys.executable, "-m", "rfm_segments", "--db", str(tmp / db_name), *args],
        cwd=REPO, env=env, capture_output=True, text=True,
    )


def build(tmp: Path, *args: str, db_name: str = "segments.duckdb") -> Path:
    result = run_pipeline(tmp, "run", *args, db_name=db_name)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return tmp / db_name


def write_lines_before(source: Path, target: Path, day: str) -> Path:
    """`target`: the header and the lines of the sample CSV `source` invoiced before `day` (ISO)."""
    with open(source, newline="") as lines, open(target, "w", newline="") as out:
        reader, writer = csv.reader(lines), csv.writer(out)
        header = next(reader)
        writer.writerow(header)
        date_column = header.index("InvoiceDate")
        writer.writerows(row for row in reader if row[date_column][:10] < day)
    return target


def write_mixed_line_ends(target: Path) -> Path:
    """A transactions CSV whose lines end in LF, then (past DuckDB's 20,480-line sniffing sample)
    in CR LF, with a line that has a stray quote among the latter: DuckDB's reader stops on it."""
    lines = ["InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n"]
    lines += [f"{i},2011-01-01,{i % 50},3.5\n" for i in range(25_000)]
    lines += [f"{i},2011-01-02,{i % 50},3.5\r\n" for i in range(25_000, 30_000)]
    lines.insert(28_000, '28000,2011-01-02,"a stray "quote,3.5\r\n')
    target.write_text("".join(lines), encoding="utf-8", newline="")
    return target


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory) -> Path:
    from rfm_segments.sample_data import generate

    path = tmp_path_factory.mktemp("sample") / "online_retail_60000.csv"
    generate(path, rows=60_000, seed=7)
    return path


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory, sample_csv) -> Path:
    return build(tmp_path_factory.mktemp("build"), "--data", str(sample_csv))


@pytest.fixture()
def query(sample_db):
    con = duckdb.connect(str(sample_db), read_only=True)
    yield lambda sql: con.execute(sql)
    con.close()


# The Spark tests (tests/spark, docs/spark.md): one Spark server for the session, and one build of
# their small inputs (tests/spark/spark_inputs.py) on each engine.

@dataclass
class PipelineRun:
    """One `python -m rfm_segments run`: its folder, output and published warehouse."""
    work: Path
    output: str

    @property
    def serving_db(self) -> Path:
        return self.work / "serving" / "segments.duckdb"

    @property
    def target(self) -> Path:
        return self.work / "target"


@pytest.fixture(scope="session")
def spark_server(tmp_path_factory):
    """One local Spark for every Spark test: Spark Connect and Thrift, one JVM and catalog (tests/spark)."""
    pytest.importorskip("pyspark", reason="the Spark extra is not installed (`make test` installs it)")
    from rfm_segments import spark_servers

    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEGMENTS_SPARK_SHUFFLE_PARTITIONS", "2")  # small files: fewer tasks per query
        server = spark_servers.start("thrift", tmp_path_factory.mktemp("spark-server"),
                                     connect_port=spark_servers.free_port())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_raw_file(tmp_path_factory) -> Path:
    from spark_inputs import LINE_STEP, MALFORMED_LINES, TEXT_ID_SALE

    lines = shared_data("online_retail_sample.csv").read_text(encoding="utf-8").splitlines()
    body = lines[1::LINE_STEP]
    path = tmp_path_factory.mktemp("raw") / "online_retail_with_malformed_lines.csv"
    path.write_text("\n".join([lines[0], *body[:300], *MALFORMED_LINES, *body[300:], TEXT_ID_SALE]) + "\n",
                    encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def spark_crm_file(tmp_path_factory) -> Path:
    from rfm_segments.sample_crm import generate_customer_attributes
    from spark_inputs import CRM_EXTRA_ROWS, CRM_MALFORMED_LINE

    path = tmp_path_factory.mktemp("crm") / "customer_attributes.csv"
    generate_customer_attributes(shared_data("online_retail_sample.csv"), path, seed=7)
    with open(path, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(CRM_EXTRA_ROWS)
        handle.write(CRM_MALFORMED_LINE + "\r\n")  # the csv module's line ends
    return path


def _spark_test_run(work: Path, *args: str, env: dict) -> PipelineRun:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        result = run_pipeline(work, "run", *args)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    return PipelineRun(work, result.stdout)


@pytest.fixture(scope="session")
def spark_run(tmp_path_factory, spark_server, spark_raw_file, spark_crm_file) -> PipelineRun:
    from spark_inputs import RUN_DATE

    return _spark_test_run(tmp_path_factory.mktemp("spark-run"), "--engine", "spark", "--data", str(spark_raw_file),
                           "--customers", str(spark_crm_file),
                           # seeds and models: every value is compared with the DuckDB run, which ran the data tests
                           env={"SPARK_REMOTE": spark_server.connect_url, "SEGMENTS_RUN_DATE": RUN_DATE,
                                "SEGMENTS_SPARK_DATA_TESTS": "0"})


@pytest.fixture(scope="session")
def duckdb_run(tmp_path_factory, spark_raw_file, spark_crm_file) -> PipelineRun:
    from spark_inputs import RUN_DATE

    return _spark_test_run(tmp_path_factory.mktemp("duckdb-run"), "--data", str(spark_raw_file),
                           "--customers", str(spark_crm_file), env={"SEGMENTS_RUN_DATE": RUN_DATE})
