"""Segment names that mean what they say, on synthetic populations where relative (tercile)
words would lie: everybody dormant, everybody recent, one-time buyers only, two clusters of one
archetype; and the hysteresis margin that keeps a name from flipping on a small move."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rfm_segments.clustering import fit_clusters
from rfm_segments.drift import model_history
from rfm_segments.naming import NAME_MARGIN, RecencyBounds, unique_names
from rfm_segments.project_vars import FIT_CLUSTERS, MODEL_HISTORY, arguments

#: The Online Retail default: purchase cycle 28 days x 2 and x 6 (seed recency_words).
BOUNDS = RecencyBounds(56.0, 168.0)
RULES = pd.DataFrame({
    "metric": ["max_feature_psi", "assignment_changed_share"],
    "watch_at": [0.1, 0.1], "retrain_at": [0.25, 0.25], "description": ["", ""],
})


def population(groups: list[tuple[float, float, float, int]], seed: int = 0) -> pd.DataFrame:
    """Customers scattered ~10% around each (recency_days, frequency, monetary, size) group."""
    rng = np.random.default_rng(seed)
    parts = []
    for r, f, m, size in groups:
        noise = rng.lognormal(0.0, 0.1, size=(size, 3))
        parts.append(pd.DataFrame({
            "recency_days": np.maximum(1, np.round(r * noise[:, 0])).astype(int),
            "frequency": np.maximum(1, np.round(f * noise[:, 1])).astype(int) if f > 1 else np.ones(size, int),
            "monetary": np.round(m * noise[:, 2], 2),
        }))
    rfm = pd.concat(parts, ignore_index=True)
    rfm.insert(0, "customer_id", [f"c{i:05d}" for i in range(len(rfm))])
    return rfm


def named_clusters(rfm: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per cluster: name, archetype and its typical member's recency in days, computed here
    independently of the package (expm1 of the members' mean log1p recency = the centre)."""
    labels = fit_clusters(rfm, n_clusters=k, **arguments(FIT_CLUSTERS), recency_bounds=BOUNDS)
    merged = rfm.assign(**{c: labels[c].to_numpy() for c in ("cluster_id", "segment_name", "segment_archetype")})
    return merged.groupby(["cluster_id", "segment_name", "segment_archetype"]).agg(
        centre_days=("recency_days", lambda d: float(np.expm1(np.log1p(d).mean()))),
        customers=("customer_id", "size"),
    ).reset_index()


def expected_word(days: float) -> str:
    return "Recent" if days <= BOUNDS.recent_up_to_days else (
        "Lapsing" if days <= BOUNDS.lapsing_up_to_days else "Dormant")


def assert_truthful(clusters: pd.DataFrame) -> None:
    assert clusters["segment_name"].is_unique
    for row in clusters.itertuples():
        assert row.segment_archetype.split(" ")[0] == expected_word(row.centre_days), row
        assert row.segment_name.startswith(row.segment_archetype)


def test_everybody_dormant_gets_no_recent_name():
    # a retailer whose customers mostly stopped buying a year ago: the "best" are 263 days idle
    rfm = population([(263, 6, 3000.0, 150), (400, 2, 400.0, 300), (520, 1, 60.0, 300)])
    clusters = named_clusters(rfm, 3)
    assert_truthful(clusters)
    assert clusters["segment_archetype"].str.startswith("Dormant").all()
    assert clusters["segment_archetype"].str.endswith("High-Value").sum() == 1  # value stays relative


def test_everybody_recent_is_recent():
    rfm = population([(3, 12, 2000.0, 100), (10, 4, 300.0, 200), (25, 1, 40.0, 300)])
    clusters = named_clusters(rfm, 3)
    assert_truthful(clusters)
    assert clusters["segment_archetype"].str.startswith("Recent").all()


def test_one_time_buyers_idle_499_days_are_dormant():
    rfm = population([(20, 1, 500.0, 200), (100, 1, 80.0, 200), (499, 1, 30.0, 300)])
    clusters = named_clusters(rfm, 3)
    assert_truthful(clusters)
    words = dict(zip(clusters["centre_days"].round(-1), clusters["segment_archetype"].str.split(" ").str[0]))
    assert sorted(words.values()) == ["Dormant", "Lapsing", "Recent"]
    assert clusters.loc[clusters["centre_days"].idxmax(), "segment_archetype"].startswith("Dormant")


def test_two_clusters_of_one_archetype_get_distinct_names_and_one_archetype():
    # two recent high-value groups: many small orders vs few big ones
    rfm = population([(4, 40, 3000.0, 150), (4, 6, 12000.0, 150), (90, 2, 150.0, 300), (300, 1, 20.0, 300)])
    clusters = named_clusters(rfm, 4).sort_values("cluster_id")
    assert_truthful(clusters)
    assert clusters["segment_name"].tolist()[:2] == ["Recent High-Value", "Recent High-Value, fewer orders"]
    assert clusters["segment_archetype"].tolist()[:2] == ["Recent High-Value"] * 2


def test_unique_names_keep_decided_names_and_qualify_the_rest():
    centres = np.array([[0.0, 1.0, 1.0], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]])
    names = unique_names(["A", "A", "A"], centres, kept=[None, "A", None])
    assert names == ["A, lower spend", "A", "A, lower spend (2)"]


def test_recency_word_margin():
    low, high = BOUNDS.recent_up_to_days, BOUNDS.recent_up_to_days * (1 + NAME_MARGIN)
    assert BOUNDS.word(low + 3) == "Lapsing"  # three days past the bound: a fresh name says so
    assert BOUNDS.word(low + 3, previous="Recent") == "Recent"  # an existing one does not flip
    assert BOUNDS.word(high + 1, previous="Recent") == "Lapsing"  # beyond the margin it does
    assert BOUNDS.word(low - 3, previous="Lapsing") == "Lapsing"
    assert BOUNDS.word(10, previous="Lapsing") == "Recent"
    with pytest.raises(ValueError, match="recency bounds must satisfy"):
        RecencyBounds(100, 50)


def _snapshot(date: str, middle_days: float, seed: int) -> pd.DataFrame:
    rfm = population([(5, 20, 5000.0, 80), (middle_days, 4, 600.0, 80), (400, 1, 80.0, 80)], seed=seed)
    return rfm.assign(snapshot_date=pd.Timestamp(date), first_purchase_date=pd.Timestamp("2020-01-01"))


def test_a_refit_keeps_a_name_when_a_centre_moves_a_few_days_across_a_bound():
    bounds = {pd.Timestamp(d).date(): BOUNDS for d in ("2021-01-01", "2021-02-01", "2021-03-01")}
    frames = [
        _snapshot("2021-01-01", 48, 1),  # middle centre ~48 days: Recent
        _snapshot("2021-02-01", 60, 2),  # ~60 days: past 56, within the margin (64.4)
        _snapshot("2021-03-01", 90, 3),  # ~90 days: clearly Lapsing
    ]
    history = model_history(pd.concat(frames), n_clusters=3, rules=RULES, **arguments(MODEL_HISTORY, auto_refit=False),
                            refit_dates=["2021-02-01", "2021-03-01"], recency_bounds=bounds)
    names = history.versions.pivot(index="cluster_id", columns="model_version", values="segment_name")
    assert names.loc[2].tolist() == ["Recent Mid-Value", "Recent Mid-Value", "Lapsing Mid-Value"]
    assert names.loc[3].tolist() == ["Dormant Low-Value"] * 3
