"""Numbers in the docs' prose are marked and written from their one definition (`make docs-numbers`)."""
from __future__ import annotations

import pytest

from rfm_segments import clustering, project_facts


def stale_pages() -> list[str]:
    return [page.name for page in project_facts.fact_pages()
            if project_facts.with_facts(page.read_text(encoding="utf-8")) != page.read_text(encoding="utf-8")]


def marked(page: str) -> list[str]:
    return project_facts.FACT.findall((project_facts.DOCS / page).read_text(encoding="utf-8"))


def test_the_numbers_marked_in_the_docs_are_their_definitions():
    assert stale_pages() == [], "numbers in docs/ differ from their definitions: run `make docs-numbers`"


def test_the_thresholds_the_docs_quote_are_marked_where_they_stand():
    jaccard = ("clustering:STABLE_JACCARD", project_facts.number(clustering.STABLE_JACCARD))
    for page in ("marts.md", "segments.md", "report.md"):
        assert jaccard in marked(page), page
    psi = {name: value for name, value in marked("history.md") if name.startswith("retraining_rules:max_feature_psi:")}
    assert set(psi) == {"retraining_rules:max_feature_psi:watch_at", "retraining_rules:max_feature_psi:retrain_at"}


def test_a_changed_threshold_makes_the_docs_stale_until_regenerated(monkeypatch):
    monkeypatch.setattr(clustering, "STABLE_JACCARD", 0.65)
    assert {"marts.md", "segments.md", "report.md"} <= set(stale_pages())
    regenerated = project_facts.with_facts((project_facts.DOCS / "report.md").read_text(encoding="utf-8"))
    assert "<!-- fact: clustering:STABLE_JACCARD -->0.65<!-- /fact -->" in regenerated


def test_an_unknown_fact_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown fact in the docs: 'var:no_such_var'"):
        project_facts.with_facts("<!-- fact: var:no_such_var -->1<!-- /fact -->")
