"""Readers always see one whole build: `query`, `summary` and `report` read the published copy,
which is switched atomically only after a build whose tests all passed. A build killed with
kill -9 (the whole process group) half-way changes nothing they read, and the next run recovers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from conftest import REPO, build, run_pipeline
from hostile_files import HEADER, sample_rows, write_csv


def customers_read_by_query(folder) -> str:
    """Lines and customers: from one build, both change together."""
    result = run_pipeline(folder, "query", "select (select count(*) from marts.clean_transactions) as lines, "
                                           "(select count(*) from marts.customer_segments) as customers")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_killed_build_changes_nothing_readers_see_and_the_next_run_recovers(tmp_path):
    first = write_csv(tmp_path / "first.csv", HEADER, sample_rows(3000))
    second = write_csv(tmp_path / "second.csv", HEADER, sample_rows(3000)[:1200])
    build(tmp_path, "--data", str(first))
    before = customers_read_by_query(tmp_path)
    assert "2717" in before.replace(",", "") and "1410" in before.replace(",", "")

    env = dict(os.environ, DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
    env.pop("SEGMENTS_SERVING_DIR", None)
    run = subprocess.Popen(
        [sys.executable, "-m", "rfm_segments", "--db", str(tmp_path / "segments.duckdb"), "run", "--data", str(second)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    for line in run.stdout:  # kill once the new marts have started replacing the old ones
        seen.append(line)
        if "OK created sql table model marts.clean_transactions" in line:
            break
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert any("marts.clean_transactions" in line for line in seen), "".join(seen[-20:])
    assert run.returncode == -signal.SIGKILL

    assert customers_read_by_query(tmp_path) == before  # the last good build, whole
    report = run_pipeline(tmp_path, "report", "--out", str(tmp_path / "report.html"))
    assert report.returncode == 0, report.stderr

    build(tmp_path, "--data", str(second))  # recovers by itself
    after = customers_read_by_query(tmp_path)
    assert after != before
