"""Drift maths against hand-worked numbers and scipy; the frozen model and refit history."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from rfm_segments.drift import (
    bin_counts,
    jensen_shannon_distance,
    kl_divergence,
    match_clusters,
    model_history,
    nearest_centroid,
    population_stability_index,
    psi_band,
    quantile_bin_edges,
    recommend,
    smoothed_proportions,
)
from rfm_segments.project_vars import MODEL_HISTORY, arguments

RULES = pd.DataFrame(
    {
        "metric": ["max_feature_psi", "assignment_changed_share"],
        "watch_at": [0.1, 0.1],
        "retrain_at": [0.25, 0.25],
    }
)


def test_bins_are_training_quantiles_and_ties_fall_low():
    training = np.array([1, 1, 1, 1, 2, 3, 4, 5, 6, 7], dtype=float)
    edges = quantile_bin_edges(training, n_bins=4)
    assert edges.tolist() == [1.0, 2.5, 4.75]
    assert bin_counts(training, edges).tolist() == [4, 1, 2, 3]  # <=1 | 2 | 3,4 | 5,6,7
    # values beyond the training range land in the outer bins; an edge value in the lower bin
    assert bin_counts(np.array([-5.0, 2.5, 100.0]), edges).tolist() == [1, 1, 0, 1]


def test_psi_hand_worked():
    # p = (50.5, 50.5) / 101 = (0.5, 0.5); q = (25.5, 75.5) / 101
    q1, q2 = 25.5 / 101, 75.5 / 101
    by_hand = (q1 - 0.5) * math.log(q1 / 0.5) + (q2 - 0.5) * math.log(q2 / 0.5)
    psi = population_stability_index(np.array([50, 50]), np.array([25, 75]))
    assert psi == pytest.approx(by_hand, abs=1e-12)
    assert psi == pytest.approx(0.26868, abs=1e-5)
    assert psi_band(psi, 0.1, 0.25) == "significant"
    assert psi_band(0.05, 0.1, 0.25) == "stable" and psi_band(0.1, 0.1, 0.25) == "moderate"
    assert population_stability_index(np.array([10, 20]), np.array([10, 20])) == 0.0


def test_psi_is_symmetric_kl_and_kl_matches_scipy():
    rng = np.random.default_rng(3)
    expected, actual = rng.integers(0, 50, 10), rng.integers(0, 50, 10)
    expected[2] = 0  # an empty bin: smoothing keeps everything finite
    p, q = smoothed_proportions(expected), smoothed_proportions(actual)
    assert kl_divergence(expected, actual) == pytest.approx(entropy(q, p), rel=1e-12)
    assert population_stability_index(expected, actual) == pytest.approx(
        entropy(q, p) + entropy(p, q), rel=1e-12
    )


def test_js_distance_matches_scipy_including_empty_bins():
    expected, actual = np.array([10, 0, 30, 60]), np.array([0, 20, 30, 50])
    assert jensen_shannon_distance(expected, actual) == pytest.approx(
        jensenshannon(expected / 100, actual / 100, base=2), rel=1e-12
    )
    assert jensen_shannon_distance(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert jensen_shannon_distance(np.array([3, 7]), np.array([30, 70])) == pytest.approx(0.0, abs=1e-7)


def test_recommendation_rule():
    assert recommend({"max_feature_psi": 0.05, "assignment_changed_share": 0.02}, RULES)[0] == "keep"
    level, why = recommend({"max_feature_psi": 0.12, "assignment_changed_share": 0.02}, RULES)
    assert level == "watch" and "max_feature_psi 0.120 >= watch_at 0.1" in why
    assert recommend({"max_feature_psi": 0.12, "assignment_changed_share": 0.3}, RULES)[0] == "retrain"
    assert recommend({"max_feature_psi": float("nan")}, RULES)[0] == "keep"


def test_hungarian_matching_and_nearest_centroid():
    previous = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    new = np.array([[9.0, 9.0], [1.0, 9.0], [1.0, 1.0]])
    assert match_clusters(previous, new).tolist() == [1, 2, 0]
    assert nearest_centroid(np.array([[0.2, 0.1], [8.0, 9.0]]), previous).tolist() == [0, 1]


def _snapshot(date: str, n: int, seed: int, recency_factor: float = 1.0) -> pd.DataFrame:
    """Three well separated groups of customers (recent big spenders, middling, dormant)."""
    rng = np.random.default_rng(seed)
    groups = [(3, 20, 5000), (40, 4, 600), (300, 1, 80)]
    rows = []
    for g, (r, f, m) in enumerate(groups):
        for i in range(n):
            rows.append({
                "snapshot_date": pd.Timestamp(date), "customer_id": f"{g}-{i}",
                "first_purchase_date": pd.Timestamp("2020-01-01"),
                "recency_days": int(r * recency_factor * rng.uniform(0.8, 1.25)),
                "frequency": max(1, int(f * rng.uniform(0.8, 1.25))),
                "monetary": round(m * rng.uniform(0.8, 1.25), 2),
            })
    return pd.DataFrame(rows)


def test_model_history_keeps_a_stable_model_and_refits_on_drift():
    frames = [
        _snapshot("2021-01-01", 60, 1),
        _snapshot("2021-02-01", 60, 1),  # identical population
        _snapshot("2021-03-01", 60, 2, recency_factor=4.0),  # everyone much less recent
    ]
    history = model_history(pd.concat(frames), n_clusters=3, rules=RULES, **arguments(MODEL_HISTORY))
    checks = history.checks.set_index(history.checks["snapshot_date"].dt.strftime("%Y-%m-%d"))
    assert checks.loc["2021-01-01", "action"] == "initial fit"
    stable = checks.loc["2021-02-01"]
    assert stable["max_feature_psi"] == 0.0 and stable["assignment_changed_share"] == 0.0
    assert stable["adjusted_rand_index"] == 1.0 and stable["recommendation"] == "keep"
    drifted = checks.loc["2021-03-01"]
    assert drifted["max_feature_psi"] > 0.25 and drifted["recommendation"] == "retrain"
    assert drifted["action"] == "refit recommended" and drifted["model_version"] == 2
    drift = history.feature_drift
    recency = drift[(drift["feature"] == "recency_days") & (drift["snapshot_date"] == "2021-03-01")]
    assert recency["psi_band"].item() == "significant"
    assert drift[drift["snapshot_date"] == "2021-02-01"]["js_distance"].abs().max() < 1e-7

    versions = history.versions
    assert sorted(versions["model_version"].unique()) == [1, 2]
    v1 = versions[versions["model_version"] == 1].set_index("cluster_id")
    v2 = versions[versions["model_version"] == 2].set_index("cluster_id")
    # The refit's clusters are the same three groups: matched, they keep their ids; names follow
    # business time (default bounds 60 / 180 days): the middle group, now ~160 days idle, is no
    # longer "Recent"; the others keep their names.
    assert sorted(v2.index) == [1, 2, 3]
    assert v1["segment_name"].tolist() == ["Recent High-Value", "Recent Mid-Value", "Dormant Low-Value"]
    assert v2["segment_name"].tolist() == ["Recent High-Value", "Lapsing Mid-Value", "Dormant Low-Value"]
    assert v1["valid_until"].iloc[0] == pd.Timestamp("2021-03-01")
    assert v2["valid_until"].isna().all()


def test_refit_asked_and_no_auto_refit():
    frames = [_snapshot("2021-01-01", 40, 1), _snapshot("2021-02-01", 40, 2, recency_factor=4.0)]
    data = pd.concat(frames)
    kept = model_history(data, n_clusters=3, rules=RULES, **arguments(MODEL_HISTORY, auto_refit=False))
    assert kept.checks["recommendation"].iloc[-1] == "retrain"
    assert kept.checks["action"].iloc[-1] == "kept" and kept.versions["model_version"].max() == 1
    stable = pd.concat([_snapshot("2021-01-01", 40, 1), _snapshot("2021-02-01", 40, 1)])
    asked = model_history(stable, n_clusters=3, rules=RULES, refit_dates=["2021-02-01"], **arguments(MODEL_HISTORY))
    assert asked.checks["action"].iloc[-1].startswith("refit asked")
    assert asked.versions["model_version"].max() == 2


def test_training_snapshot_needs_enough_customers():
    small = _snapshot("2021-01-01", 10, 1)  # 30 customers
    big = _snapshot("2021-02-01", 40, 1)  # 120 customers
    history = model_history(pd.concat([small, big]), n_clusters=3, rules=RULES, **arguments(MODEL_HISTORY))
    assert history.versions["trained_as_of"].unique().tolist() == [pd.Timestamp("2021-02-01")]
    assert len(history.checks) == 1


def test_one_snapshot_gives_typed_empty_drift():
    history = model_history(_snapshot("2021-01-01", 40, 1), n_clusters=3, rules=RULES, **arguments(MODEL_HISTORY))
    assert history.feature_drift.empty and len(history.checks) == 1
    assert history.feature_drift["psi"].dtype == "float64"  # typed: writable to the warehouse
    assert str(history.feature_drift["snapshot_date"].dtype).startswith("datetime64")


@pytest.mark.parametrize("given, expected", [
    (None, []), ("None", []), ("", []),
    ("2011-03-01, 2011-05-01", ["2011-03-01", "2011-05-01"]),
    ("['2011-03-01', '2011-05-01']", ["2011-03-01", "2011-05-01"]),  # a YAML list as dbt renders it
    (["2011-03-01"], ["2011-03-01"]),
])
def test_refit_dates_from_dbt_config(given, expected):
    from rfm_segments.history_dbt import _dates

    assert _dates(given) == expected


def test_history_long_table_holds_each_table_exactly_once():
    """One replay feeds three typed models: each record's rows, read back, are its table."""
    from rfm_segments.drift import HISTORY_RECORDS, history_long_table

    frames = [_snapshot("2021-01-01", 60, 1), _snapshot("2021-02-01", 60, 1),
              _snapshot("2021-03-01", 60, 2, recency_factor=4.0)]
    customers = pd.concat(frames)["customer_id"].unique()
    attributes = pd.DataFrame({"customer_id": customers, "attribute_name": "job", "attribute_type": "categorical",
                               "value_number": np.nan, "attribute_value": ["nurse", "teacher"] * (len(customers) // 2)})
    history = model_history(pd.concat(frames), n_clusters=3, rules=RULES, attributes=attributes, attribute_weight=1.0,
                            **arguments(MODEL_HISTORY))
    assert all(len(getattr(history, table)) for table in HISTORY_RECORDS.values())  # every record has rows
    long = history_long_table(history)
    assert long.columns[0] == "record"
    assert long["record"].value_counts().to_dict() == {
        record: len(getattr(history, table)) for record, table in HISTORY_RECORDS.items()}
    for record, table in HISTORY_RECORDS.items():
        expected = getattr(history, table)
        rows = long[long["record"] == record][list(expected.columns)].reset_index(drop=True)
        assert str(rows["model_version"].dtype) == "Int64"  # integers stay integers beside nulls
        pd.testing.assert_frame_equal(rows.astype(expected.dtypes.to_dict()), expected, check_exact=True)
        others = [c for c in long.columns if c not in expected.columns and c != "record"]
        assert long[long["record"] == record][others].isna().all().all(), record


def test_attributes_without_their_weight_are_refused():
    """The weight is var attribute_cluster_weight's: the package keeps no default copy of it."""
    snapshot = _snapshot("2021-01-01", 60, 1)
    attributes = pd.DataFrame({"customer_id": snapshot["customer_id"].unique(), "attribute_name": "job",
                               "attribute_type": "categorical", "value_number": np.nan, "attribute_value": "nurse"})
    with pytest.raises(TypeError, match="attribute_weight"):
        model_history(snapshot, n_clusters=3, rules=RULES, attributes=attributes, **arguments(MODEL_HISTORY))
