"""How much to trust the clusters: bootstrap stability and per-customer silhouettes.

The dbt Python models call::

    per_cluster = cluster_stability(rfm, labels, n_resamples=..., seed=..., sample_size=...)  # one row per cluster
    values = silhouette_values(rfm, labels, sample_size=..., seed=...)    # one row per sampled customer

The parameters are dbt vars (dbt_project.yml); outside dbt, rfm_segments.project_vars reads them.

Stability follows Hennig's clusterboot (Hennig 2007, "Cluster-wise assessment of cluster
stability"): draw bootstrap resamples of the customers, refit K-Means with the same k on each,
and for every original cluster record the Jaccard similarity to its best-matching refitted
cluster, measured on the distinct customers the resample drew. The mean over resamples says how
reliably the cluster reappears: below STABLE_JACCARD it is not a real pattern (Hennig: <= 0.5
dissolved, >= 0.75 stable). Overall agreement is the adjusted Rand index between the refits' labellings of
the same customers.

Cost is bounded: everything runs on a seeded sample of at most `sample_size` customers.
Pure functions: no I/O, no global random state; rows are sorted by customer_id before sampling,
so the input's row order does not change any number.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_samples

from rfm_segments.clustering import (
    STABLE_JACCARD,
    ClusteringError,
    _limit_threads,
    _n_distinct,
    _sample_rows,
    _sorted_features,
    fit_ordered_kmeans,
    for_each_k,
    silhouette_memory,
)

__all__ = [
    "STABLE_JACCARD",
    "STABILITY_COLUMNS",
    "add_k_evidence",
    "cluster_stability",
    "silhouette_values",
]

#: K-Means restarts per refit: fewer than the final fit's 10, the refits only need to be typical.
REFIT_N_INIT = 3

STABILITY_COLUMNS: tuple[str, ...] = (
    "cluster_id",
    "mean_jaccard",
    "min_jaccard",
    "times_dissolved",
    "is_stable",
    "refit_ari_mean",
    "refit_ari_min",
    "n_resamples",
    "sample_size",
    "n_customers",
)


def _labelled_features(
    rfm: pd.DataFrame, labels: pd.DataFrame
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.object_]]:
    """Features, cluster ids and customer ids, all sorted by customer_id."""
    for column in ("customer_id", "cluster_id"):
        if column not in labels.columns:
            raise ClusteringError(f"labels are missing column {column}")
    X, order = _sorted_features(rfm)
    customer_ids = rfm["customer_id"].to_numpy()[order]
    by_id = labels.set_index(labels["customer_id"].astype(str))["cluster_id"]
    cluster_ids = by_id.reindex(pd.Index(customer_ids).astype(str))
    n_missing = int(cluster_ids.isna().sum())
    if n_missing:
        raise ClusteringError(f"labels have no cluster for {n_missing} customer(s)")
    return X, cluster_ids.to_numpy(dtype=np.int64), customer_ids


def _jaccard(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    union = int((a | b).sum())
    return int((a & b).sum()) / union if union else 0.0


@_limit_threads  # OpenMP workers waiting on a busy core made it 0.5 s or 14 s at 90k customers
def cluster_stability(
    rfm: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    n_resamples: int,
    seed: int,
    sample_size: int,
    refit_agreement: bool = True,
) -> pd.DataFrame:
    """Bootstrap stability of each cluster in `labels` (customer_id, cluster_id); one row per cluster.

    Columns: cluster_id; mean_jaccard and min_jaccard (over resamples, of the best-matching
    refitted cluster); times_dissolved (resamples with Jaccard <= 0.5); is_stable
    (mean_jaccard >= STABLE_JACCARD); refit_ari_mean and refit_ari_min (adjusted Rand index
    between every pair of refits, on the sampled customers: the same on every row);
    n_resamples, sample_size (customers the bootstrap drew from), n_customers.

    With a single cluster everything is trivially 1. A cluster absent from the resample (too
    small to be drawn) scores 0 for that resample, as in clusterboot. `refit_agreement=False`
    skips the ARIs (NaN), the costliest part, for callers that read only the Jaccards.
    """
    if n_resamples < 2:
        raise ClusteringError(f"n_resamples must be at least 2, got {n_resamples}")
    if sample_size < 2:
        raise ClusteringError(f"sample_size must be at least 2, got {sample_size}")
    X_all, cluster_all, _ = _labelled_features(rfm, labels)
    rows = _sample_rows(len(X_all), sample_size, seed)
    X, reference = X_all[rows], cluster_all[rows]
    clusters = np.unique(reference)
    k = len(clusters)
    n = len(X)
    rng = np.random.default_rng(seed)
    jaccard = np.ones((n_resamples, k))
    refit_labels = np.zeros((n_resamples, n), dtype=np.int64)
    n_distinct = _n_distinct(X)
    for b in range(n_resamples):
        drawn = rng.integers(0, n, size=n)
        if k == 1:
            continue
        in_sample = np.zeros(n, dtype=bool)
        in_sample[drawn] = True
        if _n_distinct(X[drawn]) < k or n_distinct < k:
            jaccard[b] = 0.0  # the resample cannot hold k clusters: nothing reappears
            continue
        model = KMeans(n_clusters=k, n_init=REFIT_N_INIT, random_state=seed + b).fit(X[drawn])
        refit_labels[b] = model.predict(X)  # every sampled customer, for the ARI between refits
        refit = refit_labels[b]
        for j, cluster in enumerate(clusters):
            original = in_sample & (reference == cluster)
            jaccard[b, j] = max(
                _jaccard(original, in_sample & (refit == c)) for c in range(k)
            )
    if k == 1:
        aris = np.ones(1)
    elif not refit_agreement:
        aris = np.full(1, np.nan)
    else:
        aris = np.array(
            [
                adjusted_rand_score(refit_labels[a], refit_labels[b])
                for a, b in itertools.combinations(range(n_resamples), 2)
            ]
        )
    mean_jaccard = jaccard.mean(axis=0)
    return pd.DataFrame(
        {
            "cluster_id": clusters.astype(np.int64),
            "mean_jaccard": mean_jaccard,
            "min_jaccard": jaccard.min(axis=0),
            "times_dissolved": (jaccard <= 0.5).sum(axis=0).astype(np.int64),
            "is_stable": mean_jaccard >= STABLE_JACCARD,
            "refit_ari_mean": float(aris.mean()),
            "refit_ari_min": float(aris.min()),
            "n_resamples": np.int64(n_resamples),
            "sample_size": np.int64(n),
            "n_customers": np.int64(len(X_all)),
        }
    )[list(STABILITY_COLUMNS)]


def silhouette_values(
    rfm: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    sample_size: int,
    seed: int,
) -> pd.DataFrame:
    """Silhouette of each customer in a seeded sample of at most `sample_size`.

    Columns: customer_id, cluster_id, silhouette (-1..1: near 1 the customer sits well inside
    its cluster, near 0 on a border, below 0 closer to another cluster). Computed within the
    sample, in the model's feature space (standardised log1p R, F, M). With one cluster, or a
    sample that caught a single cluster, silhouettes are undefined and reported as 0.
    """
    if sample_size < 2:
        raise ClusteringError(f"sample_size must be at least 2, got {sample_size}")
    X_all, cluster_all, ids_all = _labelled_features(rfm, labels)
    rows = _sample_rows(len(X_all), sample_size, seed)
    X, cluster_id, customer_id = X_all[rows], cluster_all[rows], ids_all[rows]
    n_labels = len(np.unique(cluster_id))
    if 2 <= n_labels <= len(X) - 1:
        with silhouette_memory():
            values = silhouette_samples(X, cluster_id)
    else:
        values = np.zeros(len(X))
    return pd.DataFrame(
        {"customer_id": customer_id, "cluster_id": cluster_id, "silhouette": values.astype(float)}
    ).astype({"customer_id": "str", "cluster_id": "int64"})


@_limit_threads
def add_k_evidence(
    evaluation: pd.DataFrame,
    rfm: pd.DataFrame,
    backtest: pd.DataFrame | None = None,
    *,
    n_resamples: int,
    seed: int,
    sample_size: int,
) -> pd.DataFrame:
    """`evaluate_k` table plus, per k >= 2, the evidence `choose_k` weighs beyond geometry:

    - stability_min_jaccard / stability_mean_jaccard: the least and the average cluster's mean
      bootstrap Jaccard (`cluster_stability` of a K-Means fit with that k on a seeded sample of
      at most `sample_size` customers, `n_resamples` resamples);
    - backtest_explained_share: with `backtest` (customers of the latest snapshot whose next
      period has happened: customer_id, recency_days, frequency, monetary, next_period_spend),
      eta squared of ln(1 + next-period spend) by the clusters of a K-Means fit with that k on
      that snapshot: how much of what customers spent next the k clusters tell apart.
    """
    out = evaluation.copy()
    ks = [int(k) for k in out["k"] if k >= 2]
    X, order = _sorted_features(rfm)
    rows = _sample_rows(len(X), sample_size, seed)
    sample = rfm.iloc[order].iloc[rows].reset_index(drop=True)
    X_sample, _ = _sorted_features(sample)  # the sample's own scaling, as cluster_stability uses
    n_distinct = _n_distinct(X_sample)

    def stability(k: int) -> tuple[float, float]:
        labels, _ = fit_ordered_kmeans(X_sample, k, seed)
        per_cluster = cluster_stability(
            sample, pd.DataFrame({"customer_id": sample["customer_id"], "cluster_id": labels}),
            n_resamples=n_resamples, seed=seed, sample_size=sample_size, refit_agreement=False,
        )
        return float(per_cluster["mean_jaccard"].min()), float(per_cluster["mean_jaccard"].mean())

    stable_ks = [k for k in ks if k <= n_distinct]
    by_k = dict(zip(stable_ks, for_each_k(stability, stable_ks)))
    minimum = {k: low for k, (low, _) in by_k.items()}
    mean = {k: average for k, (_, average) in by_k.items()}
    explained = {}
    if backtest is not None and len(backtest) > 0:
        Xb, order_b = _sorted_features(backtest)
        spend = np.log1p(np.clip(backtest["next_period_spend"].to_numpy(dtype=float)[order_b], 0, None))
        total = float(((spend - spend.mean()) ** 2).sum())
        n_distinct_b = _n_distinct(Xb)

        def explained_share(k: int) -> float:
            labels, _ = fit_ordered_kmeans(Xb, k, seed)
            between = sum((labels == c).sum() * (spend[labels == c].mean() - spend.mean()) ** 2
                          for c in np.unique(labels))
            return float(between / total)

        backtest_ks = [k for k in ks if k <= n_distinct_b and total != 0]
        explained = dict(zip(backtest_ks, for_each_k(explained_share, backtest_ks)))
    out["stability_min_jaccard"] = out["k"].map(minimum).astype("float64")
    out["stability_mean_jaccard"] = out["k"].map(mean).astype("float64")
    out["backtest_explained_share"] = out["k"].map(explained).astype("float64")
    return out
