"""The numbers the docs quote about the project, written from dbt's manifest, never typed.

    python -m rfm_segments.project_facts            # `make docs-numbers`: rewrite the block
    python -m rfm_segments.project_facts --check    # exit 1 when the docs are stale

Rewrites the generated block of docs/marts.md: how many models (SQL, Python), seeds, data
tests, unit tests and exposures the project has, and which models are public (group bi), that
is, published for BI (rfm_segments.bi_registry). Without --manifest it runs `dbt parse` into a
temporary folder, so it reflects the project as it is, not the last build.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from rfm_segments import bi_registry

REPO = Path(__file__).resolve().parents[2]
DOCS_PAGE = REPO / "docs" / "marts.md"
BEGIN = "<!-- project-facts: written by `make docs-numbers` from dbt's manifest; do not edit by hand -->"
END = "<!-- /project-facts -->"


def counts(manifest: dict) -> Counter:
    """Resources of this project by kind (models split by language)."""
    found: Counter = Counter()
    for node in manifest["nodes"].values():
        if node["package_name"] != manifest["metadata"].get("project_name", node["package_name"]):
            continue
        kind = node["resource_type"]
        found[f"{node['language']} model" if kind == "model" else kind] += 1
    found["unit test"] = len(manifest.get("unit_tests", {}))
    found["exposure"] = len(manifest.get("exposures", {}))
    return found


def render(manifest: dict) -> str:
    """The generated block, markers included."""
    found = counts(manifest)
    public = bi_registry.public_models(manifest)
    lines = [
        BEGIN,
        f"The dbt project has {found['sql model']} SQL models and {found['python model']} Python models, "
        f"{found['seed']} seeds, {found['test']} data tests, {found['unit test']} unit tests and "
        f"{found['exposure']} exposures. {len(public)} models are public (group `{bi_registry.BI_GROUP}`), "
        "and exactly these tables are published for BI:",
        "",
        ", ".join(f"`{model.relation}`" for model in public),
        END,
    ]
    return "\n".join(lines)


def updated(text: str, block: str) -> str:
    """`text` with its generated block replaced by `block`."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{DOCS_PAGE} has no generated block ({BEGIN} ... {END})")
    before, rest = text.split(BEGIN, 1)
    return before + block + rest.split(END, 1)[1]


def is_current(manifest: dict, page: Path = DOCS_PAGE) -> bool:
    text = page.read_text()
    return updated(text, render(manifest)) == text


def parsed_manifest() -> dict:
    """`dbt parse` of the project into a temporary target folder."""
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), DBT_TARGET_PATH=folder, DBT_LOG_PATH=folder)
        dbt = Path(sys.executable).with_name("dbt")
        result = subprocess.run([str(dbt) if dbt.exists() else "dbt", "parse", "--quiet"],
                                cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"error: dbt parse failed:\n{result.stdout}{result.stderr}")
        return bi_registry.load_manifest(Path(folder))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rfm_segments.project_facts", description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", help="dbt's manifest.json or target folder (default: dbt parse now)")
    parser.add_argument("--check", action="store_true", help="only say whether the docs are current")
    options = parser.parse_args(argv)
    manifest = bi_registry.load_manifest(Path(options.manifest)) if options.manifest else parsed_manifest()
    if options.check:
        if is_current(manifest):
            print(f"{DOCS_PAGE.relative_to(REPO)} is current")
            return 0
        print(f"error: {DOCS_PAGE.relative_to(REPO)} is stale: run `make docs-numbers`", file=sys.stderr)
        return 1
    DOCS_PAGE.write_text(updated(DOCS_PAGE.read_text(), render(manifest)))
    print(f"==> wrote the project's numbers into {DOCS_PAGE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
