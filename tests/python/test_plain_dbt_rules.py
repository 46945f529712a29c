"""The rules behind plain `dbt build`: profile paths from the project, what may be published."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rfm_segments.dbt_invocations import Invocation, why_not_publishable
from rfm_segments.dbt_paths import from_project

ROOT = Path("/repo/dbt_project")
STARTED = datetime(2026, 1, 2, 3, 4, 5)


def test_relative_profile_paths_are_taken_from_the_project_folder():
    assert from_project("../warehouse/segments.duckdb", ROOT) == "/repo/warehouse/segments.duckdb"
    assert from_project("x.duckdb", ROOT) == "/repo/dbt_project/x.duckdb"
    for untouched in ("/elsewhere/x.duckdb", ":memory:", "md:my_db", "s3://bucket/x.duckdb", ""):
        assert from_project(untouched, ROOT) == untouched


def invocation(command="build", selection="", finished=True, nodes=180, not_passed=0) -> Invocation:
    return Invocation("id-1", command, selection, STARTED, STARTED if finished else None,
                      nodes if finished else None, not_passed if finished else None)


def test_only_a_finished_full_build_that_passed_is_published():
    assert why_not_publishable(invocation()) is None
    assert why_not_publishable(None) == "no dbt build is recorded in this warehouse: run `dbt build` first"
    assert "did not finish" in why_not_publishable(invocation(finished=False))
    assert "`dbt build --select customer_segments+`" in why_not_publishable(invocation(selection="--select customer_segments+"))
    assert "`dbt run` started 2026-01-02 03:04:05 UTC" in why_not_publishable(invocation(command="run"))
    assert "had 3 of 180 nodes that did not pass" in why_not_publishable(invocation(not_passed=3))
