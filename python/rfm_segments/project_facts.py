"""The numbers the docs quote about the project, written from dbt's manifest, never typed.

    python -m rfm_segments.project_facts            # `make docs-numbers`: rewrite the block
    python -m rfm_segments.project_facts --check    # exit 1 when the docs are stale

Rewrites the generated block of docs/marts.md: how many models (SQL, Python), seeds, data
tests, unit tests and exposures the project has, and which models are public (group bi), that
is, published for BI (rfm_segments.bi_registry). Without --manifest it runs `dbt parse` into a
temporary folder, so it reflects the project as it is, not the last build.

Numbers in the prose of docs/*.md are marked where they stand, `<!-- fact: NAME -->0.6<!-- /fact -->`
(the comments do not show on the rendered page), and rewritten from their one definition: NAME is
`clustering:<constant>` (rfm_segments.clustering: STABLE_JACCARD, SILHOUETTE_MARGIN), `var:<name>`
(a var of dbt_project.yml) or `retraining_rules:<metric>:<column>` (the seed).
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from rfm_segments import bi_registry
from rfm_segments.project_vars import project_vars

REPO = Path(__file__).resolve().parents[2]
DOCS_PAGE = REPO / "docs" / "marts.md"
DOCS = REPO / "docs"
BEGIN = "<!-- project-facts: written by `make docs-numbers` from dbt's manifest; do not edit by hand -->"
END = "<!-- /project-facts -->"
#: A number in the prose, marked with the name of its one definition.
FACT = re.compile(r"<!-- fact: ([\w:]+) -->(.*?)<!-- /fact -->")
RETRAINING_RULES = REPO / "dbt_project" / "seeds" / "retraining_rules.csv"


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


def number(value: object) -> str:
    """A number as the docs write it: 5,000; 0.25; 0.6. Text (a date) as it is."""
    if isinstance(value, str) and not value.replace(".", "", 1).isdigit():
        return value
    value = float(value)
    return f"{int(value):,}" if value.is_integer() and abs(value) >= 1 else f"{value:g}"


def fact(name: str) -> str:
    """The value of a marked number in the docs, from its one definition."""
    kind, _, rest = name.partition(":")
    if kind == "clustering":
        from rfm_segments import clustering  # scikit-learn: imported only when a page asks

        if rest in clustering.__all__:
            return number(getattr(clustering, rest))
    if kind == "var" and rest in project_vars():
        return number(project_vars()[rest])
    if kind == "retraining_rules":
        metric, _, column = rest.partition(":")
        with RETRAINING_RULES.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["metric"] == metric and column in row:
                    return number(row[column])
    raise ValueError(f"unknown fact in the docs: {name!r} (clustering:<constant>, var:<name>, retraining_rules:<metric>:<column>)")


def with_facts(text: str) -> str:
    """`text` with every marked number rewritten from its definition."""
    return FACT.sub(lambda found: f"<!-- fact: {found[1]} -->{fact(found[1])}<!-- /fact -->", text)


def fact_pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def rewritten(manifest: dict) -> dict[Path, str]:
    """The docs pages whose numbers are stale, with their text as `make docs-numbers` writes it."""
    pages = {}
    for page in fact_pages():
        text = page.read_text(encoding="utf-8")
        new = with_facts(updated(text, render(manifest)) if page == DOCS_PAGE else text)
        if new != text:
            pages[page] = new
    return pages


def is_current(manifest: dict) -> bool:
    return not rewritten(manifest)


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
    stale = rewritten(manifest)
    names = ", ".join(str(page.relative_to(REPO)) for page in stale)
    if options.check:
        if not stale:
            print("the numbers in docs/ are current")
            return 0
        print(f"error: stale numbers in {names}: run `make docs-numbers`", file=sys.stderr)
        return 1
    for page, text in stale.items():
        page.write_text(text, encoding="utf-8")
    print(f"==> wrote the project's numbers into {names or 'no page (all current)'}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
