"""The dbt project's shape, read from its manifest (`dbt parse`, no data): folder = layer = schema,
data flows one way, every model has a grain test and a description, and the models BI sees are
exactly the public ones in group bi."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

PROJECT = REPO / "dbt_project"
LAYERS = ["staging", "intermediate", "marts"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("layout")
    env = dict(os.environ, DBT_TARGET_PATH=str(target / "target"), DBT_LOG_PATH=str(target / "logs"),
               SEGMENTS_DB=str(target / "parse.duckdb"), DBT_PROFILES_DIR=str(REPO))
    result = subprocess.run([str(Path(sys.executable).parent / "dbt"), "parse", "--quiet"], cwd=PROJECT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((target / "target" / "manifest.json").read_text())


def models(manifest: dict) -> dict[str, dict]:
    return {n["unique_id"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def layer(node: dict) -> str:
    return Path(node["original_file_path"]).parts[1]


def test_folder_is_layer_is_schema(manifest):
    wrong = []
    for node in models(manifest).values():
        parts = Path(node["original_file_path"]).parts  # models/<layer>/<subject>/<file>
        expected = "clustering" if parts[1:3] == ("marts", "clustering") else parts[1]
        if len(parts) != 4 or parts[1] not in LAYERS or node["schema"] != expected:
            wrong.append((node["original_file_path"], node["schema"]))
    assert wrong == []


def test_data_flows_from_staging_to_intermediate_to_marts_never_back(manifest):
    nodes = models(manifest)
    backwards = [
        (node["name"], nodes[parent]["name"])
        for node in nodes.values()
        for parent in node["depends_on"]["nodes"]
        if parent in nodes and LAYERS.index(layer(nodes[parent])) > LAYERS.index(layer(node))
    ]
    assert backwards == []
    sources = {n["name"] for n in nodes.values() if any(p.startswith("source.") for p in n["depends_on"]["nodes"])}
    assert sources <= {n["name"] for n in nodes.values() if layer(n) == "staging"}


def test_every_model_is_described_and_has_a_grain_test(manifest):
    keyed = {
        model
        for test in manifest["nodes"].values()
        if test["resource_type"] == "test"
        and (test.get("test_metadata") or {}).get("name") in ("unique", "unique_combination", "unique_line_key")
        for model in test["depends_on"]["nodes"]
    }
    nodes = models(manifest).values()
    assert [n["name"] for n in nodes if not n["description"].strip()] == []
    # The line-grain models too: their key is record_number (macro record_number).
    assert sorted(n["name"] for n in nodes if n["unique_id"] not in keyed) == []


def test_bi_sees_exactly_the_public_marts_and_exposures_read_only_them(manifest):
    nodes = models(manifest)
    public = {uid for uid, n in nodes.items() if n["access"] == "public"}
    assert public == {uid for uid, n in nodes.items() if layer(n) == "marts"}
    assert {nodes[uid]["group"] for uid in public} == {"bi"}
    assert manifest["groups"]["group.rfm_segments.bi"]["owner"]["email"]
    assert {nodes[uid]["schema"] for uid in public} == {"marts", "clustering"}
    # 28 + the customer attribute marts (profiles, highlights, rejected rows, attribute features,
    # the stored models' attribute centres) + the two seeds the report reads, published
    # (cluster_evaluation_metrics, model_retraining_rules)
    assert len(public) == 35
    for exposure in manifest["exposures"].values():  # no seed, source or private model
        assert set(exposure["depends_on"]["nodes"]) <= public, exposure["name"]
