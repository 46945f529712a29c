"""What BI sees, from one registry: the dbt models with `access: public` in dbt's manifest.

The published set is not a list kept here: it is every model configured `access: public`
(all of them in group `bi`), wherever that config lives in the dbt project. `publish` copies
exactly these tables, the run summary lists them, and the tests and docs/marts.md read them
from here, so a model BI must not see never becomes public by forgetting a second list.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

#: The dbt group every published model belongs to (dbt_project/models/_groups.yml).
BI_GROUP = "bi"
MANIFEST = "manifest.json"


class RegistryError(Exception):
    """The manifest is missing or unreadable; one line naming the file."""


@dataclass(frozen=True)
class PublicModel:
    schema: str
    name: str  # the relation's name (the alias, when a model sets one)
    group: str | None
    description: str
    materialized: str
    #: (column, description) in the order the YAML documents them (a contract's columns).
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


def target_dir(dbt_project: Path) -> Path:
    """dbt's target folder: $DBT_TARGET_PATH (relative to the project) or <project>/target."""
    return Path(dbt_project) / os.environ.get("DBT_TARGET_PATH", "target")


def load_manifest(path: Path) -> dict:
    """dbt's manifest.json, given the file or the target folder that holds it."""
    path = Path(path)
    if path.suffix != ".json":
        path = path / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RegistryError(f"no dbt manifest at {path}: run `dbt build` (or `make run`) first") from None
    except (OSError, ValueError) as error:
        raise RegistryError(f"cannot read the dbt manifest {path}: {error}") from None


def models(manifest: dict) -> list[dict]:
    """Every model node of this project in the manifest."""
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


def public_models(manifest: dict | Path) -> tuple[PublicModel, ...]:
    """The models BI reads (access public), sorted by schema and name."""
    if not isinstance(manifest, dict):
        manifest = load_manifest(manifest)
    public = [
        PublicModel(
            schema=node["schema"],
            name=node.get("alias") or node["name"],
            group=node.get("group") or node["config"].get("group"),
            description=node.get("description", ""),
            materialized=node["config"]["materialized"],
            columns=tuple((column["name"], column.get("description") or "") for column in node.get("columns", {}).values()),
        )
        for node in models(manifest)
        if (node.get("access") or node["config"].get("access")) == "public"
    ]
    return tuple(sorted(public, key=lambda model: (model.schema, model.name)))
