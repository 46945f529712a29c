"""Plain dbt, typed the way a dbt user types it (README "Quick start", docs/dbt.md).

Runs `dbt ...` as subprocesses in a copy of the repository, from dbt_project/ and from the
repository root, with a clean environment: the project's virtualenv on PATH (as `activate`
leaves it) and no SEGMENTS_* or DBT_* variables, no vars. The set-up is the default sample at
the path plain dbt reads (var sample_raw_path), but small, so that the whole file takes about
two minutes.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import REPO
from rfm_segments import cli
from rfm_segments.sample_data import generate

SAMPLE_ROWS = 5_000
VENV_BIN = Path(sys.executable).parent


def sample_raw_path() -> str:
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    return project["vars"]["sample_raw_path"]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the repository's files (links kept), sharing its virtualenv, after the set-up."""
    root = tmp_path_factory.mktemp("plain_dbt") / "repo"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if os.path.lexists(source):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name, follow_symlinks=False)
    (root / ".venv").symlink_to(VENV_BIN.parent)
    # Older than the shared virtualenv's stamp, so that `make publish` does not reinstall it.
    for name in ("pyproject.toml", "constraints.txt"):
        os.utime(root / name, (0, 0))
    generate((root / "dbt_project" / sample_raw_path()).resolve(), rows=SAMPLE_ROWS, seed=42)
    (root.parent / "home").mkdir()
    return root


def clean_env(checkout: Path, **extra: str) -> dict[str, str]:
    return {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "VIRTUAL_ENV": str(VENV_BIN.parent),
            "HOME": str(checkout.parent / "home"), "LANG": "C.UTF-8", **extra}


def run(folder: Path, *command: str, **extra_env: str) -> subprocess.CompletedProcess:
    checkout = folder if (folder / "Makefile").exists() else folder.parent
    result = subprocess.run(list(command), cwd=folder, env=clean_env(checkout, **extra_env),
                            capture_output=True, text=True, timeout=900)
    result.output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    return result


def dbt(folder: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return run(folder, "dbt", *args, **extra_env)


def last_lines(result: subprocess.CompletedProcess, count: int = 10) -> str:
    return "\n".join(result.output.strip().splitlines()[-count:])


def warehouse(checkout: Path) -> Path:
    return checkout / "warehouse" / "segments.duckdb"


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def invocations(checkout: Path) -> list[tuple]:
    if not warehouse(checkout).exists():
        return []
    return query(warehouse(checkout), "select invocation_id, command, selection, not_passed "
                                      "from main.dbt_invocations order by started_at")


def duckdb_files(checkout: Path) -> list[Path]:
    return sorted(path for path in checkout.parent.rglob("*.duckdb") if "serving" not in path.parts)


def assert_built_from_the_default_sample(checkout: Path) -> None:
    sample = (checkout / "dbt_project" / sample_raw_path()).resolve()
    data_lines = sum(1 for line in sample.read_text().splitlines()[1:] if line)
    (rows,), = query(warehouse(checkout), "select sum(rows) from marts.data_quality_summary")
    (customers, distinct), = query(warehouse(checkout), "select count(*), count(distinct customer_id) "
                                                        "from marts.customer_segments")
    assert rows == data_lines
    assert customers == distinct > 20


def test_the_default_input_is_the_sample_make_run_generates():
    makefile = (REPO / "Makefile").read_text()
    rows, seed = (int(re.search(rf"^{name}\s*\?=\s*(\d+)", makefile, re.M).group(1)) for name in ("ROWS", "SEED"))
    options = cli.build_parser().parse_args(["run"])
    assert (options.rows, options.seed) == (rows, seed)
    assert (REPO / "dbt_project" / sample_raw_path()).resolve() == cli.sample_path(rows, seed)


def test_dbt_build_in_the_project_folder(checkout):
    result = dbt(checkout / "dbt_project", "build")
    assert result.returncode == 0, result.output[-4000:]
    assert duckdb_files(checkout) == [warehouse(checkout)]  # the file `make run` writes, nowhere else
    assert_built_from_the_default_sample(checkout)
    assert "Nothing published for BI yet: every node passed. Publish this build with `make publish`" \
        in last_lines(result)
    (_, command, selection, not_passed), = invocations(checkout)
    assert (command, selection, not_passed) == ("build", "", 0)


def test_dbt_build_from_the_repository_root_writes_the_same_file(checkout):
    before = invocations(checkout)
    result = dbt(checkout, "build", "--project-dir", "dbt_project")
    assert result.returncode == 0, result.output[-4000:]
    assert duckdb_files(checkout) == [warehouse(checkout)]
    assert_built_from_the_default_sample(checkout)
    after = invocations(checkout)
    assert after[:-1] == before and after[-1][1:] == ("build", "", 0)
    assert "make publish" in last_lines(result)


def test_make_publish_publishes_the_last_full_build(checkout):
    result = run(checkout, "make", "--no-print-directory", "publish")
    assert result.returncode == 0, result.output[-3000:]
    assert "Published for BI" in result.output
    serving = checkout / "warehouse" / "serving" / "segments.duckdb"
    (invocation_id,), = query(serving, "select distinct dbt_invocation_id from serving.publication")
    assert invocation_id == invocations(checkout)[-1][0]
    assert query(serving, "select count(*) from marts.customer_segments") == \
        query(warehouse(checkout), "select count(*) from marts.customer_segments")


def published_build(checkout: Path) -> str:
    (build_id,), = query(checkout / "warehouse" / "serving" / "segments.duckdb",
                         "select distinct build_id from serving.publication")
    return build_id


def test_a_partial_build_says_so_and_is_not_published(checkout):
    published = published_build(checkout)
    result = dbt(checkout / "dbt_project", "build", "--select", "customer_segments+")
    assert result.returncode == 0, result.output[-4000:]
    assert re.search(r"START sql table model marts\.segment_profiles", result.output)  # a Python model's child
    assert "Nothing published for BI: this was `dbt build --select customer_segments+`" in last_lines(result)
    refused = run(checkout, "make", "--no-print-directory", "publish")
    assert refused.returncode != 0
    assert ("error: not published: the last dbt command that wrote the warehouse was "
            "`dbt build --select customer_segments+`") in refused.stderr
    assert "BI keeps the data published at" in refused.stderr and published in refused.stderr
    assert published_build(checkout) == published


def test_dbt_test_marts_and_run_full_refresh(checkout):
    before = invocations(checkout)
    tested = dbt(checkout / "dbt_project", "test", "--select", "marts")
    assert tested.returncode == 0, tested.output[-4000:]
    assert int(re.search(r"PASS=(\d+)", tested.output).group(1)) > 10
    assert invocations(checkout) == before  # tests change nothing, so they leave no record

    refreshed = dbt(checkout, "run", "--full-refresh", "--project-dir", "dbt_project")
    assert refreshed.returncode == 0, refreshed.output[-4000:]
    assert "OK created python table model clustering.customer_clusters" in refreshed.output
    assert "Nothing published for BI: this was `dbt run`" in last_lines(refreshed)
    assert invocations(checkout)[-1][1:] == ("run", "", 0)
    assert_built_from_the_default_sample(checkout)


@pytest.mark.parametrize("from_root", [False, True], ids=["project folder", "repository root"])
def test_ls_show_and_docs(checkout, from_root):
    folder, where = (checkout, ["--project-dir", "dbt_project"]) if from_root else (checkout / "dbt_project", [])
    listed = dbt(folder, "ls", *where, "--resource-type", "model", "--output", "name")
    assert listed.returncode == 0, listed.output[-3000:]
    names = set(listed.stdout.split())
    assert {"customer_clusters", "cluster_stability", "customer_segments", "segment_profiles"} <= names

    shown = dbt(folder, "show", *where, "--select", "segment_profiles")
    assert shown.returncode == 0, shown.output[-3000:]
    assert "Previewing node 'segment_profiles'" in shown.output
    for name, in query(warehouse(checkout), "select segment_name from marts.segment_profiles"):
        assert name in shown.output

    docs = dbt(folder, "docs", "generate", *where)
    assert docs.returncode == 0, docs.output[-3000:]
    catalog = (checkout / "dbt_project" / "target" / "catalog.json").read_text()
    assert '"model.rfm_segments.customer_clusters"' in catalog and '"segment_name"' in catalog


@pytest.mark.parametrize("from_root", [False, True], ids=["project folder", "repository root"])
def test_a_missing_input_stops_dbt_before_anything_runs(checkout, from_root):
    sample = (checkout / "dbt_project" / sample_raw_path()).resolve()
    before = invocations(checkout)
    hidden = sample.with_suffix(".away")
    sample.rename(hidden)
    try:
        if from_root:
            result = dbt(checkout, "build", "--project-dir", "dbt_project")
        else:
            result = dbt(checkout / "dbt_project", "build")
    finally:
        hidden.rename(sample)
    assert result.returncode != 0
    errors = [line for line in result.output.splitlines() if "input file not found" in line]
    assert len(errors) == 1, result.output[-3000:]
    assert errors[0].strip().startswith(f"input file not found: {sample_raw_path()} ")
    assert "--vars '{raw_path: " in errors[0] and "make run DATA=" in errors[0]
    assert not re.search(r"START (sql|python|seed|test|unit_test)", result.output)  # nothing ran
    assert invocations(checkout) == before


def test_segments_db_and_the_vars_keep_working(checkout, tmp_path):
    elsewhere = tmp_path / "elsewhere.duckdb"
    before = invocations(checkout)
    # raw_path relative to the shell's folder (DuckDB tries it first) and SEGMENTS_DB elsewhere.
    result = dbt(checkout, "run", "--project-dir", "dbt_project", "--select", "staging",
                 "--vars", "{raw_path: " + sample_raw_path().removeprefix("../") + "}", SEGMENTS_DB=str(elsewhere))
    assert result.returncode == 0, result.output[-3000:]
    # The staging view keeps the path as given, so it is read from the same folder.
    counted = run(checkout, sys.executable, "-c", "import duckdb, sys; print(duckdb.connect(sys.argv[1], "
                  "read_only=True).sql('select count(*) from staging.stg_retail__transaction_lines').fetchall()[0][0])",
                  str(elsewhere))
    assert counted.stdout.split() == [str(SAMPLE_ROWS)], counted.output
    assert invocations(checkout) == before
