"""The published files open in what BI tools actually use: an older DuckDB (1.4, as bundled by
DBeaver, Metabase and Superset drivers), SQLAlchemy through duckdb-engine, pandas."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from conftest import REPO
from rfm_segments import bi_registry

#: The oldest DuckDB docs/serving-bi.md promises can read the serving file (storage version v1.4.0).
OLDEST_DUCKDB = "1.4.0"
#: The 1.4 release a Superset/duckdb-engine user installs: 1.4.0's Python package cannot be used
#: with SQLAlchemy at all ("unhashable type: DuckDBPyType", fixed in 1.4.1).
SQLALCHEMY_DUCKDB = "1.4.5"
OLD_READER = Path(__file__).with_name("old_duckdb_reader.py")


def pinned(package: str) -> str:
    """package==version as pinned in constraints.txt, so the side venv matches the project's."""
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(package.lower() + "=="):
            return line
    raise AssertionError(f"{package} is not pinned in constraints.txt")


def side_venv(request, tmp_path_factory, spec: list[str]) -> Path:
    """A separate venv with `spec` installed, kept in pytest's cache (.pytest_cache) so only
    the first run installs it. Returns its python."""
    name = "bi-venv-" + "-".join(spec).replace("==", "")
    try:
        venv = request.config.cache.mkdir(name)
    except AttributeError:  # pytest's cache plugin is off
        venv = tmp_path_factory.mktemp(name)
    python, done = venv / "bin" / "python", venv / "installed.txt"
    if done.exists() and done.read_text() == " ".join(spec) and python.exists():
        return python
    shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *spec],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, f"could not install {spec}:\n{install.stdout[-2000:]}{install.stderr[-2000:]}"
    done.write_text(" ".join(spec))
    return python


def read_with(python: Path, serving: Path, tmp_path: Path, *flags: str) -> dict:
    newer = tmp_path / "default_format.duckdb"  # what dbt-duckdb would write without the setting
    with duckdb.connect(str(newer)) as con:
        con.execute("create or replace table t as select 1 as x")
    result = subprocess.run([str(python), str(OLD_READER), str(serving), str(newer), *flags],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def serving(sample_db) -> Path:
    return sample_db.parent / "serving"


def build_fingerprints(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('marts', 'clustering') order by all"
        ).fetchall()
        return {
            f"{schema}.{name}": list(con.execute(
                f'select count(*), coalesce(sum(hash(t)), 0)::varchar from "{schema}"."{name}" as t').fetchone())
            for schema, name in tables
        }


def test_the_oldest_duckdb_1_4_reads_every_published_table_and_parquet_file(
        request, tmp_path_factory, serving, sample_db, tmp_path):
    python = side_venv(request, tmp_path_factory, [f"duckdb=={OLDEST_DUCKDB}"])
    report = read_with(python, serving, tmp_path)
    assert report["duckdb_version"] == OLDEST_DUCKDB
    expected = build_fingerprints(sample_db)
    assert report["tables"] == expected  # every table, every row
    assert report["parquet"] == expected
    assert report["comments"]["customer_segments.segment_name"].startswith("The cluster's name")  # doc block
    assert all(report["comments"].values())
    # The check means something: the same DuckDB refuses a file in DuckDB 2's default format.
    assert report["newer_format_error"] and re.search("storage|version", report["newer_format_error"], re.I)


def test_superset_style_sqlalchemy_with_duckdb_1_4_reads_the_marts(
        request, tmp_path_factory, serving, sample_db, tmp_path):
    python = side_venv(request, tmp_path_factory,
                       [f"duckdb=={SQLALCHEMY_DUCKDB}", pinned("duckdb-engine"), pinned("sqlalchemy")])
    report = read_with(python, serving, tmp_path, "--sqlalchemy")
    assert report["duckdb_version"] == SQLALCHEMY_DUCKDB
    assert report["tables"] == build_fingerprints(sample_db)
    # the marts schema: every public model of the build in it (the manifest says which)
    in_marts = sorted(m.name for m in bi_registry.public_models(sample_db.parent / "target") if m.schema == "marts")
    assert "customer_segments" in in_marts and sorted(report["sqlalchemy_tables"]) == in_marts
    assert report["sqlalchemy_columns"][:3] == ["customer_id", "country", "recency_days"]
    assert report["sqlalchemy_table_comment"].startswith("The mart BI tools query")
    with duckdb.connect(str(sample_db), read_only=True) as con:
        profiles = con.execute("select cluster_id, segment_name, customers, cast(revenue as varchar) "
                               "from marts.segment_profiles order by cluster_id").fetchall()
    assert [tuple(row) for row in report["sqlalchemy_profiles"]] == profiles


def test_pandas_reads_the_marts_through_sqlalchemy_and_parquet(serving, sample_db):
    engine = sa.create_engine(f"duckdb:///{serving / 'segments.duckdb'}", connect_args={"read_only": True})
    with engine.connect() as con:
        profiles = pd.read_sql("select * from marts.segment_profiles order by cluster_id", con)
        published_at = con.execute(sa.text("select max(published_at) from serving.publication")).scalar()
    engine.dispose()
    with duckdb.connect(str(sample_db), read_only=True) as con:
        expected = con.execute("select * from marts.segment_profiles order by cluster_id").df()
    dates = [c for c in expected.columns if pd.api.types.is_datetime64_any_dtype(expected[c])]
    profiles[dates] = profiles[dates].apply(pd.to_datetime)  # SQLAlchemy gives date objects
    pd.testing.assert_frame_equal(profiles, expected, check_dtype=False)
    assert published_at is not None

    # pandas' own read_parquet needs pyarrow, which the project does not ship; DuckDB reads it.
    segments = duckdb.read_parquet(str(serving / "parquet" / "customer_segments.parquet")).df()
    with duckdb.connect(str(sample_db), read_only=True) as con:
        customers, tiers = con.execute(
            "select count(*), count(distinct tier) from marts.customer_segments").fetchone()
    assert len(segments) == customers and segments["tier"].nunique() == tiers
    assert segments["customer_id"].is_unique
