"""Publishing for BI: BI readers never block a rebuild and never see half of one.

Every test starts from a copy of the session's real build (warehouse + its first publication)
and runs real `dbt build`s against it, with BI readers in other processes where it matters.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import REPO, run_pipeline
from rfm_segments import bi_registry, publish

READER = Path(__file__).with_name("bi_reader.py")


def fingerprints(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> dict[str, list]:
    """rows and sum(hash()) of every table in marts and clustering, as the BI reader computes them."""
    prefix = f"{catalog}." if catalog else ""
    where = f"database_name = '{catalog}' and " if catalog else ""
    tables = con.execute(
        f"select schema_name, table_name from duckdb_tables() where {where}"
        "schema_name in ('marts', 'clustering') order by all"
    ).fetchall()
    return {
        f"{schema}.{name}": list(con.execute(
            f'select count(*), coalesce(sum(hash(t)), 0)::varchar from {prefix}"{schema}"."{name}" as t'
        ).fetchone())
        for schema, name in tables
    }


def warehouse_fingerprints(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        return fingerprints(con)


def serving_state(serving: Path) -> dict:
    """Everything a reader could see: file identity, publication, contents, Parquet version."""
    database = serving / "segments.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        build_ids = {row[0] for row in con.execute("select build_id from serving.publication").fetchall()}
        tables = fingerprints(con)
    return {
        "inode": database.stat().st_ino,
        "build_ids": build_ids,
        "tables": tables,
        "parquet": os.readlink(serving / "parquet"),
        "versions": sorted(p.name for p in (serving / "parquet-versions").iterdir()),
        "leftovers": sorted(p.name for p in serving.glob(".*.tmp*")),
    }


@pytest.fixture()
def workspace(tmp_path, sample_db) -> Path:
    """A copy of the session build: warehouse file, dbt's manifest, and serving/ with its first publication."""
    shutil.copy2(sample_db, tmp_path / "segments.duckdb")
    (tmp_path / "target").mkdir()
    shutil.copy2(sample_db.parent / "target" / "manifest.json", tmp_path / "target")
    shutil.copytree(sample_db.parent / "serving", tmp_path / "serving", symlinks=True)
    return tmp_path


@pytest.fixture(scope="module")
def other_csv(tmp_path_factory, sample_csv) -> Path:
    """The session sample without its last 10,000 lines: a rebuild from it changes every mart."""
    path = tmp_path_factory.mktemp("other") / "online_retail_50000.csv"
    with open(sample_csv) as source, open(path, "w") as target:
        for number, line in enumerate(source):
            if number > 50_000:
                break
            target.write(line)
    return path


def test_the_publication_is_the_build_with_comments_and_nothing_else(sample_db):
    serving = sample_db.parent / "serving"
    build = warehouse_fingerprints(sample_db)
    state = serving_state(serving)
    public = bi_registry.public_models(sample_db.parent / "target")
    assert set(build) == {model.relation for model in public}  # every table of marts and clustering is public
    assert {"marts.customer_clv", "marts.segment_backtest", "marts.customer_segments",
            "clustering.cluster_k_evaluation"} <= set(build)
    assert state["tables"] == build
    assert len(state["build_ids"]) == 1 and state["parquet"] == f"parquet-versions/{next(iter(state['build_ids']))}"
    assert (serving / "segments.duckdb").stat().st_mode & 0o777 == 0o444
    with duckdb.connect(str(serving / "segments.duckdb"), read_only=True) as con:
        schemas = {row[0] for row in con.execute("select schema_name from duckdb_tables()").fetchall()}
        assert schemas == {"marts", "clustering", "serving"}  # no staging / intermediate
        undescribed = con.execute(
            "select schema_name || '.' || table_name || '.' || column_name from duckdb_columns() "
            "where schema_name in ('marts', 'clustering', 'serving') and coalesce(comment, '') = '' order by 1"
        ).fetchall()
        assert undescribed == []  # every column of every published table has its description
        untitled = con.execute("select table_name from duckdb_tables() where coalesce(comment, '') = ''").fetchall()
        assert untitled == []
        served = dict(con.execute(
            "select table_name || '.' || column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'customer_segments'"
        ).fetchall())
    with duckdb.connect(str(sample_db), read_only=True) as con:
        built = dict(con.execute(
            "select table_name || '.' || column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'customer_segments'"
        ).fetchall())
    assert served == built  # dbt's persist_docs comments, carried over
    manifest = bi_registry.load_manifest(sample_db.parent / "target")
    described = manifest["nodes"]["model.rfm_segments.customer_segments"]["columns"]["recency_days"]["description"]
    assert described.startswith("Days from the customer's last purchase")  # the doc block recency_days
    assert served["customer_segments.recency_days"].strip() == described.strip()
    # The Parquet set: one file per table plus the publication record, same contents.
    parquet = serving / "parquet"
    assert sorted(p.name for p in parquet.iterdir()) == sorted(
        [f"{name.split('.')[1]}.parquet" for name in build] + ["_publication.parquet"])
    with duckdb.connect() as con:
        for name, expected in build.items():
            path = parquet / f"{name.split('.')[1]}.parquet"
            got = con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0)::varchar from read_parquet('{path}') as t"
            ).fetchone()
            assert list(got) == expected, name


def test_republishing_keeps_the_previous_version_and_cleans_up(workspace):
    serving = workspace / "serving"
    first = serving_state(serving)
    # Leftovers of a publish killed half-way.
    (serving / ".segments.duckdb.dead.tmp").write_text("half a file")
    (serving / "parquet-versions" / ".dead.tmp").mkdir()
    publications = [publish.publish(workspace / "segments.duckdb", serving, workspace / "target") for _ in range(3)]
    state = serving_state(serving)
    assert state["build_ids"] == {publications[-1].build_id}
    assert state["versions"] == sorted(p.build_id for p in publications[-2:])  # current + previous only
    assert state["parquet"] == f"parquet-versions/{publications[-1].build_id}"
    assert state["leftovers"] == [] and not (serving / "parquet-versions" / ".dead.tmp").exists()
    assert state["tables"] == first["tables"] and state["inode"] != first["inode"]


def test_a_failed_publish_changes_nothing_and_leaves_no_temporary_files(workspace):
    serving = workspace / "serving"
    before = serving_state(serving)
    empty = workspace / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    missing = (r"the warehouse has no table clustering\.cluster_attribute_features, clustering\.cluster_centroids, .*"
               r"marts\.tier_cluster_comparison \(public in dbt's manifest\)")
    with pytest.raises(publish.PublishError, match=missing):
        publish.publish(empty, serving, workspace / "target")
    with pytest.raises(publish.PublishError, match="would overwrite the dbt warehouse file"):
        publish.publish(workspace / "segments.duckdb", workspace, workspace / "target")
    with pytest.raises(publish.PublishError, match=f"no dbt manifest at {workspace / 'nowhere' / 'manifest.json'}"):
        publish.publish(workspace / "segments.duckdb", serving, workspace / "nowhere")
    assert serving_state(serving) == before


def test_the_published_set_is_exactly_the_public_models_of_group_bi(sample_db):
    manifest = bi_registry.load_manifest(sample_db.parent / "target")
    public = bi_registry.public_models(manifest)
    assert {model.group for model in public} == {bi_registry.BI_GROUP}
    assert {model.schema for model in public} == {"marts", "clustering"}
    assert {model.materialized for model in public} == {"table"}
    assert not [model.name for model in public if model.name.startswith(("stg_", "int_"))]
    with duckdb.connect(str(sample_db.parent / "serving" / "segments.duckdb"), read_only=True) as con:
        published = con.execute("select table_schema || '.' || table_name from serving.publication order by 1").fetchall()
    assert [row[0] for row in published] == [model.relation for model in public]
    # The rest of the project is built but not published.
    private = {f"{node['schema']}.{node['alias']}" for node in bi_registry.models(manifest)
               if node["access"] != "public"}
    assert "intermediate.int_transaction_lines_classified" in private and "staging.stg_retail__transaction_lines" in private
    assert not private & {row[0] for row in published}


def test_what_is_published_follows_access_public_in_the_manifest_not_the_schema(workspace):
    """A mart made private disappears from the publication; an intermediate model made public appears."""
    manifest_path = workspace / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for node in bi_registry.models(manifest):
        if node["name"] in ("customer_rfm", "int_rfm_as_of_date"):
            node["access"] = "protected" if node["name"] == "customer_rfm" else "public"
    manifest_path.write_text(json.dumps(manifest))
    publication = publish.publish(workspace / "segments.duckdb", workspace / "serving", workspace / "target")
    relations = {f"{table.schema}.{table.name}" for table in publication.tables}
    assert "marts.customer_rfm" not in relations and "intermediate.int_rfm_as_of_date" in relations
    assert "marts.customer_segments" in relations
    with duckdb.connect(str(publication.database), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'customer_rfm'").fetchone() == (0,)
    assert not (publication.parquet / "customer_rfm.parquet").exists()


def test_rebuild_while_bi_holds_the_file_publishes_and_readers_never_see_a_mix(workspace, other_csv):
    serving = workspace / "serving"
    old = warehouse_fingerprints(workspace / "segments.duckdb")
    (old_id,) = serving_state(serving)["build_ids"]
    stop = workspace / "stop"
    readers = {}
    for mode in ("hold", "reopen", "parquet"):
        out = workspace / f"{mode}.jsonl"
        readers[mode] = (out, subprocess.Popen(
            [sys.executable, str(READER), mode, str(serving), str(out), str(stop)], cwd=REPO))

    def reads(mode: str) -> list[dict]:
        out = readers[mode][0]
        return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []

    def wait_for(condition, what: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while not condition():
            assert time.time() < deadline, f"timed out waiting for {what}"
            assert all(p.poll() is None for _, p in readers.values()), "a reader died"
            time.sleep(0.1)

    try:
        wait_for(lambda: all(reads(mode) for mode in readers), "the readers' first reads")
        started = time.time()
        result = run_pipeline(workspace, "run", "--data", str(other_csv))
        finished = time.time()
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "Published for BI" in result.stdout
        new = warehouse_fingerprints(workspace / "segments.duckdb")
        (new_id,) = serving_state(serving)["build_ids"]
        wait_for(lambda: all(reads(mode)[-1].get("build_ids") == [new_id] for mode in ("reopen", "parquet")),
                 "the readers to see the new publication")
    finally:
        stop.touch()
        for _, process in readers.values():
            process.wait(timeout=60)

    assert new_id != old_id
    assert new["marts.customer_segments"] != old["marts.customer_segments"]  # old and new differ
    for mode in readers:
        seen = reads(mode)
        assert [r for r in seen if "error" in r] == [], mode
        # Every read is one whole build: all tables old, or all tables new.
        labels = [("old" if r["tables"] == old else "new" if r["tables"] == new else "MIX", *r["build_ids"])
                  for r in seen]
        assert set(labels) <= {("old", old_id), ("new", new_id)}, (mode, labels)
        order = [label for label, _ in labels]
        if mode == "hold":  # held the old file open all through the rebuild, and kept seeing it
            assert set(order) == {"old"}
            assert seen[0]["t"] < started and seen[-1]["t"] > finished
        else:  # switched once, from old to new, never back
            assert order == sorted(order, key=["old", "new"].index) and set(order) == {"old", "new"}, mode


def test_a_build_killed_part_way_leaves_the_publication_intact(workspace, other_csv):
    serving = workspace / "serving"
    before = serving_state(serving)
    env = dict(os.environ, DBT_TARGET_PATH=str(workspace / "target"), DBT_LOG_PATH=str(workspace / "logs"))
    env.pop("SEGMENTS_SERVING_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "rfm_segments", "--db", str(workspace / "segments.duckdb"), "run",
         "--data", str(other_csv)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: dbt dies with it
    )
    output = []
    try:
        for line in process.stdout:
            output.append(line)
            if "OK created sql table model marts.customer_rfm " in line:
                break  # the warehouse is half rebuilt: RFM is new, the segments are not yet
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert any("marts.customer_rfm " in line for line in output), "".join(output)[-3000:]
    assert process.returncode == -signal.SIGKILL

    after = serving_state(serving)
    assert after == before  # same file, same publication, same contents, same Parquet version
    with duckdb.connect() as con:  # and the Parquet set still reads in full
        for name, expected in before["tables"].items():
            path = serving / "parquet" / f"{name.split('.')[1]}.parquet"
            assert list(con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0)::varchar from read_parquet('{path}') as t"
            ).fetchone()) == expected, name
    # The warehouse really was half rebuilt: RFM is new, the segments still the old ones.
    half = warehouse_fingerprints(workspace / "segments.duckdb")
    assert half["marts.customer_rfm"] != before["tables"]["marts.customer_rfm"]
    assert half["marts.customer_segments"] == before["tables"]["marts.customer_segments"]


def test_a_build_whose_tests_fail_publishes_nothing_and_says_so(workspace, other_csv):
    serving = workspace / "serving"
    before = serving_state(serving)
    (build_id,) = before["build_ids"]
    with duckdb.connect(str(serving / "segments.duckdb"), read_only=True) as con:
        (published_at,) = con.execute("select max(published_at) from serving.publication").fetchone()
    # min_customers is the publishing guard: a truncated extract fails data test
    # has_at_least_rows on customer_segments. Other data, so dbt's own file visibly changes.
    result = run_pipeline(workspace, "run", "--data", str(other_csv), "--vars", "{min_customers: 1000000000}")
    assert result.returncode == 1
    assert "FAIL 1 has_at_least_rows_customer_segments" in result.stdout
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("error: dbt build failed")
    assert f"BI keeps the data published at {published_at:%Y-%m-%d %H:%M:%S} UTC (build {build_id})" in message
    assert "Traceback" not in result.stderr and "Published for BI" not in result.stdout
    assert serving_state(serving) == before
    # dbt did rewrite customer_segments in its own file before the test failed on it.
    assert warehouse_fingerprints(workspace / "segments.duckdb")["marts.customer_segments"] \
        != before["tables"]["marts.customer_segments"]
