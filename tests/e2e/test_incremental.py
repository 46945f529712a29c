"""Incremental history: appended transactions rebuild only the snapshots whose input changed, and
the result equals a build from scratch."""
from __future__ import annotations

import shutil

import duckdb

from conftest import build, write_lines_before
from test_pipeline import mart_digest

CUT = "2011-11-15"
HISTORY_MARTS = [  # published, so mart_digest hashes them
    "marts.customer_segment_history", "marts.segment_migration", "marts.segment_sizes_over_time",
    "marts.segment_feature_drift", "marts.model_retraining_checks", "clustering.cluster_model_versions",
    "marts.customer_segments",
]


def invocations(db) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute(
            "select distinct cast(snapshot_date as varchar), built_by_invocation_id "
            "from intermediate.int_snapshot_customer_rfm"
        ).fetchall())


def test_appended_lines_update_only_the_latest_snapshots(sample_csv, sample_db, tmp_path):
    data = write_lines_before(sample_csv, tmp_path / "transactions.csv", CUT)
    db = build(tmp_path, "--data", str(data))
    before = invocations(db)
    assert "2011-11-01" in before and "2011-12-01" not in before

    shutil.copy(sample_csv, data)  # the rest of the lines arrive in the same file
    build(tmp_path, "--data", str(data))
    after = invocations(db)
    unchanged = {d for d in after if d < "2011-11-01"}
    assert unchanged and all(after[d] == before[d] for d in unchanged)  # history not recomputed
    assert after["2011-12-01"] != before["2011-11-01"]  # new snapshots built by the second run
    assert set(after) - set(before) >= {"2011-12-01"} and max(before) not in after  # old as-of date dropped

    # sample_db: the same file built from scratch (as --full-refresh would)
    incremental, full = mart_digest(db), mart_digest(sample_db)
    assert all(m in incremental for m in HISTORY_MARTS)
    assert incremental == full  # every mart, the history ones included
