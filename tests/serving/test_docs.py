"""The dbt docs side of serving: descriptions that survive YAML, exposures over every mart."""
from __future__ import annotations

import json

import duckdb
import yaml

from conftest import REPO

COLUMN_KEYS = {"name", "description", "data_type", "data_tests", "tests", "constraints", "meta",
               "quote", "config", "tags", "granularity"}


def test_column_yaml_has_no_keys_split_off_a_description():
    """In a flow mapping `{name: x, description: a, b}` the comma ends the description and
    `b` becomes a key: dbt ignores it silently and the docs show half a sentence."""
    stray = []
    for path in sorted((REPO / "dbt_project" / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for model in document.get("models", []):
            for column in model.get("columns", []):
                stray += [f"{path.name}: {model['name']}.{column['name']}: {key!r}"
                          for key in set(column) - COLUMN_KEYS]
    assert stray == []


def test_every_published_table_is_described_and_read_by_an_exposure(sample_db):
    manifest = json.loads((sample_db.parent / "target" / "manifest.json").read_text())
    read_by_exposures = {
        node.split(".")[-1]
        for exposure in manifest["exposures"].values()
        for node in exposure["depends_on"]["nodes"]
    }
    assert len(manifest["exposures"]) >= 4
    models = {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    with duckdb.connect(str(sample_db.parent / "serving" / "segments.duckdb"), read_only=True) as con:
        published = con.execute(
            "select table_name, list(column_name order by column_index) from duckdb_columns() "
            "where schema_name in ('marts', 'clustering') group by table_name order by table_name"
        ).fetchall()
    assert len(published) == 30  # 23 + marts.segment_backtest + 4 CLV marts + 2 customer attribute marts
    for table, columns in published:
        assert table in read_by_exposures, f"no exposure reads {table}"
        assert models[table]["description"].strip(), table
        described = {name for name, column in models[table]["columns"].items() if column["description"].strip()}
        assert set(columns) <= described, (table, sorted(set(columns) - described))
