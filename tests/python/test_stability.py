"""Tests for rfm_segments.stability: bootstrap stability and per-customer silhouettes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_samples, silhouette_score

from rfm_segments.clustering import ClusteringError, fit_clusters, prepare_features
from rfm_segments.project_vars import CLUSTER_STABILITY, EVALUATE_K, K_EVIDENCE, SILHOUETTE_VALUES, arguments
from rfm_segments.stability import STABLE_JACCARD, cluster_stability, silhouette_values
from test_clustering import make_blobs


@pytest.fixture(scope="module")
def blobs_labelled() -> tuple[pd.DataFrame, pd.DataFrame]:
    rfm, _ = make_blobs()
    return rfm, fit_clusters(rfm, n_clusters=4, seed=1)


def test_real_clusters_are_stable(blobs_labelled):
    rfm, labels = blobs_labelled
    result = cluster_stability(rfm, labels, **arguments(CLUSTER_STABILITY, n_resamples=10, seed=3))
    assert list(result["cluster_id"]) == [1, 2, 3, 4]
    assert (result["mean_jaccard"] > 0.95).all()
    assert result["is_stable"].all()
    assert (result["times_dissolved"] == 0).all()
    assert result["refit_ari_mean"].iloc[0] > 0.95
    assert result["n_resamples"].iloc[0] == 10
    assert result["sample_size"].iloc[0] == result["n_customers"].iloc[0] == len(rfm)


def test_clusters_that_are_not_in_the_data_are_flagged(blobs_labelled):
    rfm, _ = blobs_labelled
    # Random labels: no refit on the data can reproduce them.
    noise = pd.DataFrame(
        {"customer_id": rfm["customer_id"], "cluster_id": np.random.default_rng(0).integers(1, 5, len(rfm))}
    )
    result = cluster_stability(rfm, noise, **arguments(CLUSTER_STABILITY, n_resamples=10, seed=3))
    assert (result["mean_jaccard"] < 0.4).all()
    assert not result["is_stable"].any()
    assert (result["times_dissolved"] == 10).all()


def test_splitting_one_blob_makes_the_halves_unstable():
    # One round blob cut in two by a label: the cut is arbitrary, refits put it elsewhere.
    rng = np.random.default_rng(5)
    n = 600
    rfm = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "recency_days": np.round(50 * rng.lognormal(0, 0.6, n)),
            "frequency": np.round(5 * rng.lognormal(0, 0.6, n)),
            "monetary": np.round(500 * rng.lognormal(0, 0.6, n), 2),
        }
    )
    labels = fit_clusters(rfm, n_clusters=5, seed=0)
    result = cluster_stability(rfm, labels, **arguments(CLUSTER_STABILITY, n_resamples=10, seed=0))
    assert result["mean_jaccard"].min() < STABLE_JACCARD + 0.2
    assert result["refit_ari_mean"].iloc[0] < 0.9


def test_row_order_does_not_matter(blobs_labelled):
    rfm, labels = blobs_labelled
    shuffled = np.random.default_rng(9).permutation(len(rfm))
    a = cluster_stability(rfm, labels, n_resamples=5, seed=2, sample_size=300)
    b = cluster_stability(
        rfm.iloc[shuffled].reset_index(drop=True), labels.iloc[shuffled[::-1]], n_resamples=5, seed=2, sample_size=300
    )
    pd.testing.assert_frame_equal(a, b)


def test_without_refit_agreement_the_jaccards_are_the_same(blobs_labelled):
    """add_k_evidence reads only the Jaccards, so it skips the ARIs between refits."""
    rfm, labels = blobs_labelled
    full = cluster_stability(rfm, labels, n_resamples=5, seed=2, sample_size=300)
    lean = cluster_stability(rfm, labels, n_resamples=5, seed=2, sample_size=300, refit_agreement=False)
    ari = ["refit_ari_mean", "refit_ari_min"]
    pd.testing.assert_frame_equal(lean.drop(columns=ari), full.drop(columns=ari))
    assert lean[ari].isna().all().all() and full[ari].notna().all().all()


def test_cost_is_bounded_by_the_sample(blobs_labelled):
    rfm, labels = blobs_labelled
    result = cluster_stability(rfm, labels, n_resamples=4, seed=2, sample_size=120)
    assert result["sample_size"].iloc[0] == 120
    assert result["n_customers"].iloc[0] == 600


def test_one_cluster_is_trivially_stable(blobs_labelled):
    rfm, _ = blobs_labelled
    labels = rfm[["customer_id"]].assign(cluster_id=1)
    result = cluster_stability(rfm, labels, **arguments(CLUSTER_STABILITY, n_resamples=3))
    assert result[["mean_jaccard", "min_jaccard", "refit_ari_mean"]].to_numpy().tolist() == [[1.0, 1.0, 1.0]]


def test_bad_arguments_are_one_line_errors(blobs_labelled):
    rfm, labels = blobs_labelled
    with pytest.raises(ClusteringError, match="n_resamples"):
        cluster_stability(rfm, labels, **arguments(CLUSTER_STABILITY, n_resamples=1))
    with pytest.raises(ClusteringError, match="no cluster for 1 customer"):
        cluster_stability(rfm, labels.iloc[1:], **arguments(CLUSTER_STABILITY))


def test_silhouette_values_equal_scikit_learn(blobs_labelled):
    rfm, labels = blobs_labelled
    values = silhouette_values(rfm, labels, **arguments(SILHOUETTE_VALUES, sample_size=2 * len(rfm)))
    X, _ = prepare_features(rfm)
    expected = pd.Series(silhouette_samples(X, labels["cluster_id"]), index=rfm["customer_id"])
    assert len(values) == len(rfm) and values["customer_id"].is_unique
    np.testing.assert_allclose(values["silhouette"], expected.loc[values["customer_id"]].to_numpy(), atol=1e-12)
    assert values["silhouette"].mean() == pytest.approx(silhouette_score(X, labels["cluster_id"]))


def test_silhouette_values_are_sampled_and_seeded(blobs_labelled):
    rfm, labels = blobs_labelled
    a = silhouette_values(rfm, labels, sample_size=200, seed=4)
    b = silhouette_values(rfm, labels, sample_size=200, seed=4)
    assert len(a) == 200
    pd.testing.assert_frame_equal(a, b)
    assert set(a["cluster_id"]) == {1, 2, 3, 4}


def test_k_evidence_on_four_blobs():
    """Four true groups: k=4 is stable; the backtest explains next spend best once the four are
    apart, the spend being a function of the group (eta squared computed independently here)."""
    from rfm_segments.clustering import evaluate_k
    from rfm_segments.stability import add_k_evidence

    rfm, truth = make_blobs()
    spend = np.array([900.0, 200.0, 50.0, 0.0])[truth] * np.random.default_rng(0).uniform(0.9, 1.1, len(truth))
    backtest = rfm.assign(next_period_spend=spend)
    evaluation = evaluate_k(rfm, **arguments(EVALUATE_K, k_max=6))
    evidence = add_k_evidence(evaluation, rfm, backtest, **arguments(K_EVIDENCE, n_resamples=5, seed=1)).set_index("k")
    assert evidence.loc[4, "stability_min_jaccard"] > 0.95
    assert evidence["stability_min_jaccard"].between(0, 1).all()
    y = np.log1p(spend)
    total = ((y - y.mean()) ** 2).sum()
    between = sum((truth == g).sum() * (y[truth == g].mean() - y.mean()) ** 2 for g in range(4))
    assert evidence.loc[4, "backtest_explained_share"] == pytest.approx(between / total, abs=1e-9)
    assert evidence.loc[2, "backtest_explained_share"] < evidence.loc[4, "backtest_explained_share"]
    no_backtest = add_k_evidence(evaluate_k(rfm, **arguments(EVALUATE_K, k_max=3)), rfm, None, **arguments(K_EVIDENCE, n_resamples=3))
    assert no_backtest["backtest_explained_share"].isna().all()
