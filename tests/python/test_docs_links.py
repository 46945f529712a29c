"""Every link in the README and docs/*.md that points into the repository resolves: the file
exists and, for a #fragment into a Markdown page, the heading does (GitHub's anchor rules)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation but - and _ dropped, spaces to -."""
    found, in_code = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            heading = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    return found


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # code is not a link
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_resolves(page):
    broken = []
    for target in links(page):
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {resolved.name}")
    assert broken == []


def test_the_readme_links_every_docs_page_and_stays_short():
    readme = (REPO / "README.md").read_text()
    linked = {Path(target.partition("#")[0]).name for target in links(REPO / "README.md")}
    assert {page.name for page in (REPO / "docs").glob("*.md")} <= linked
    assert len(readme.splitlines()) <= 200


def test_the_anchor_rule_on_a_known_heading():
    assert "4-k-with-all-the-evidence" in anchors(REPO / "docs" / "segments.md")
    assert "definitions-the-models-units-differ-from-rfms" in anchors(REPO / "docs" / "clv.md")
