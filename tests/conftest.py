"""Shared fixtures: real dbt builds into temporary DuckDB files."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
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


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory):
    """One local Spark Connect server for the test session (rfm_segments.spark_servers), as a cluster."""
    pytest.importorskip("pyspark", reason="the Spark extra is not installed (`make test` installs it)")
    from rfm_segments import spark_servers

    server = spark_servers.start("connect", tmp_path_factory.mktemp("spark-connect-server"))
    yield server
    server.stop()
