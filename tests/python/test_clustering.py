"""Tests for rfm_segments.clustering and rfm_segments.naming: quick, seeded, no I/O."""

from __future__ import annotations

import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from rfm_segments.clustering import (
    EVALUATION_COLUMNS,
    SEGMENT_ARCHETYPES,
    ClusteringError,
    _n_distinct,
    _silhouette,
    choose_k,
    cluster_centroids,
    evaluate_k,
    fit_clusters,
    mark_chosen,
    prepare_features,
)
from rfm_segments.naming import RecencyBounds, archetypes_for_centres, unique_names
from rfm_segments.project_vars import EVALUATE_K, FIT_CLUSTERS, arguments

#: Business-time bounds for the blobs: Recent up to 30 days, Lapsing up to 120, then Dormant.
BLOB_BOUNDS = RecencyBounds(30.0, 120.0)

# Four well-separated groups in (log) RFM space: (recency_days, frequency, monetary), size.
BLOBS = {
    "champions": ((4, 30, 3000.0), 100),
    "lapsing_big": ((45, 6, 300.0), 150),
    "recent_once": ((8, 1, 25.0), 150),
    "dormant_once": ((300, 1, 20.0), 200),
}


def make_blobs(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers scattered ~8% (lognormal) around each blob centre; ids in shuffled order."""
    rng = np.random.default_rng(seed)
    parts, truth = [], []
    for b, ((r, f, m), size) in enumerate(BLOBS.values()):
        noise = rng.lognormal(0.0, 0.08, size=(size, 3))
        parts.append(
            pd.DataFrame(
                {
                    "recency_days": np.maximum(1, np.round(r * noise[:, 0])).astype(int),
                    "frequency": np.maximum(1, np.round(f * noise[:, 1])).astype(int),
                    "monetary": np.round(m * noise[:, 2], 2),
                }
            )
        )
        truth += [b] * size
    rfm = pd.concat(parts, ignore_index=True)
    rfm.insert(0, "customer_id", [f"C{i:04d}" for i in rng.permutation(len(rfm))])
    return rfm, np.array(truth)


def one_row(customer_id: str, r: int, f: int, m: float) -> dict[str, object]:
    return {"customer_id": customer_id, "recency_days": r, "frequency": f, "monetary": m}


@pytest.fixture(scope="module")
def blobs() -> tuple[pd.DataFrame, np.ndarray]:
    return make_blobs()


@pytest.fixture(scope="module")
def blob_labels(blobs: tuple[pd.DataFrame, np.ndarray]) -> pd.DataFrame:
    return fit_clusters(blobs[0], n_clusters=4, **arguments(FIT_CLUSTERS), recency_bounds=BLOB_BOUNDS)


# ------------------------------------------------------------------ recovery of the truth


def test_blobs_recover_k_and_grouping(blobs):
    rfm, truth = blobs
    evaluation = evaluate_k(rfm, **arguments(EVALUATE_K))
    assert evaluation["k"].tolist() == list(range(2, 9))
    k, reason = choose_k(evaluation)
    assert k == 4
    assert reason.startswith("knee of inertia at k=4; silhouette ")
    assert "(1st best of 7)" in reason
    labels = fit_clusters(rfm, n_clusters=k, **arguments(FIT_CLUSTERS))
    assert adjusted_rand_score(truth, labels["cluster_id"]) == 1.0


def test_blobs_recovered_through_the_sampled_path(blobs):
    """Sweep and restarts on a 200-customer sample, refinement on all 600."""
    rfm, truth = blobs
    evaluation = evaluate_k(rfm, **arguments(EVALUATE_K, seed=7, silhouette_sample_size=100), fit_sample_size=200)
    assert (evaluation["fit_sample_size"] == 200).all()
    assert (evaluation["n_customers"] == 600).all()
    assert choose_k(evaluation)[0] == 4
    labels = fit_clusters(rfm, n_clusters=4, seed=7, fit_sample_size=200)
    assert adjusted_rand_score(truth, labels["cluster_id"]) == 1.0


def test_cluster_1_is_most_valuable_and_ids_follow_value(blobs, blob_labels):
    rfm, truth = blobs
    # the value score of each true blob centre, computed independently of the package
    logs = np.log1p(rfm[["recency_days", "frequency", "monetary"]].to_numpy(float))
    z = (logs - logs.mean(axis=0)) / logs.std(axis=0)
    score = (-z[:, 0] + z[:, 1] + z[:, 2]) / 3
    blob_value = [score[truth == b].mean() for b in range(4)]
    expected_id_of_blob = 1 + np.argsort(np.argsort(-np.array(blob_value)))
    assert expected_id_of_blob[0] == 1  # champions
    np.testing.assert_array_equal(blob_labels["cluster_id"], expected_id_of_blob[truth])


def test_names_archetypes_and_output_shape(blobs, blob_labels):
    rfm, truth = blobs
    assert blob_labels.columns.tolist() == [
        "customer_id",
        "cluster_id",
        "segment_name",
        "segment_archetype",
    ]
    assert blob_labels["customer_id"].tolist() == rfm["customer_id"].tolist()  # input order
    assert blob_labels["cluster_id"].dtype == np.int64
    assert sorted(blob_labels["cluster_id"].unique()) == [1, 2, 3, 4]
    assert set(blob_labels["segment_archetype"]) <= set(SEGMENT_ARCHETYPES)
    per_cluster = blob_labels.drop_duplicates("cluster_id")
    assert per_cluster["segment_name"].is_unique
    name_of_blob = {
        name: blob_labels.loc[truth == b, "segment_name"].unique().tolist()
        for b, name in enumerate(BLOBS)
    }
    assert name_of_blob == {
        "champions": ["Recent High-Value"],
        "lapsing_big": ["Lapsing High-Value"],
        "recent_once": ["Recent Mid-Value"],
        "dormant_once": ["Dormant Low-Value"],
    }


def test_centroids_in_original_units(blobs, blob_labels):
    rfm, truth = blobs
    centroids = cluster_centroids(rfm, blob_labels)
    assert centroids["cluster_id"].tolist() == [1, 2, 3, 4]
    assert centroids["n_customers"].sum() == len(rfm)
    for b, ((r, f, m), size) in enumerate(BLOBS.values()):
        cluster = blob_labels.loc[truth == b, "cluster_id"].iloc[0]
        row = centroids.set_index("cluster_id").loc[cluster]
        assert row["n_customers"] == size
        np.testing.assert_allclose(
            row[["recency_days", "frequency", "monetary"]].to_numpy(float), [r, f, m], rtol=0.1
        )
    # a join by customer_id gives the same answer as the aligned fast path
    shuffled = blob_labels.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(cluster_centroids(rfm, shuffled), centroids)


def test_shuffled_input_gives_identical_results(blobs):
    rfm, _ = blobs
    shuffled = rfm.sample(frac=1.0, random_state=11).reset_index(drop=True)
    for kwargs in ({}, {"fit_sample_size": 250}):
        pd.testing.assert_frame_equal(
            evaluate_k(rfm, **arguments(EVALUATE_K, seed=5, silhouette_sample_size=120), **kwargs),
            evaluate_k(shuffled, **arguments(EVALUATE_K, seed=5, silhouette_sample_size=120), **kwargs),
            check_exact=True,
        )
        a = fit_clusters(rfm, n_clusters=5, seed=5, **kwargs)
        b = fit_clusters(shuffled, n_clusters=5, seed=5, **kwargs)
        assert b["customer_id"].tolist() == shuffled["customer_id"].tolist()
        merged = a.merge(b, on="customer_id", suffixes=("_a", "_b"))
        assert len(merged) == len(rfm)
        for column in ("cluster_id", "segment_name", "segment_archetype"):
            assert (merged[f"{column}_a"] == merged[f"{column}_b"]).all()


def test_silhouette_is_sampled_above_the_limit(blobs):
    rfm, _ = blobs
    sampled = evaluate_k(rfm, **arguments(EVALUATE_K, k_max=5, silhouette_sample_size=200))
    assert (sampled["silhouette_sample_size"] == 200).all()
    assert (sampled["fit_sample_size"] == 600).all()
    full = evaluate_k(rfm, **arguments(EVALUATE_K, k_max=5, silhouette_sample_size=2 * len(rfm)))
    assert (full["silhouette_sample_size"] == 600).all()
    assert not np.allclose(sampled["silhouette"], full["silhouette"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(sampled["silhouette"], full["silhouette"], atol=0.05)
    np.testing.assert_array_equal(sampled["inertia"], full["inertia"])  # same fits


@pytest.mark.parametrize("trial", range(40))
def test_silhouette_is_scikit_learns_on_the_same_sample(trial):
    """The k sweep's own silhouette (a matrix product instead of scikit-learn's per-row loop)
    gives silhouette_score's value on silhouette_score's seeded sample, NaN where it raises."""
    rng = np.random.default_rng(trial)
    n = int(rng.integers(3, 300))
    X = rng.normal(size=(n, int(rng.integers(1, 5)))).round(int(rng.integers(0, 3)))  # ties too
    labels = rng.integers(0, int(rng.integers(1, 7)), size=n)
    size = int(rng.integers(2, n + 5))
    try:
        expected = silhouette_score(X, labels, sample_size=size if size < n else None, random_state=trial)
    except ValueError:  # one cluster in the sample, or as many clusters as points
        expected = float("nan")
    assert _silhouette(X, labels, size, trial) == pytest.approx(expected, abs=1e-9, nan_ok=True)


@pytest.mark.parametrize("trial", range(20))
def test_distinct_customers_are_counted_as_numpy_unique_counts_them(trial):
    rng = np.random.default_rng(trial)
    n = int(rng.integers(1, 400))
    X = rng.normal(size=(n, int(rng.integers(1, 5)))).round(int(rng.integers(0, 2)))  # many ties
    X[: n // 4] *= -1  # -0.0 and 0.0 are the same point
    assert _n_distinct(X) == len(np.unique(X, axis=0))
    assert _n_distinct(X[:0]) == 0


def test_evaluation_columns_and_types(blobs):
    evaluation = evaluate_k(blobs[0], **arguments(EVALUATE_K, k_min=3, k_max=4))
    assert evaluation.columns.tolist() == list(EVALUATION_COLUMNS)  # every column, in the declared order
    assert evaluation["k"].dtype == np.int64
    assert evaluation["note"].tolist() == ["", ""]
    assert evaluation["inertia"].is_monotonic_decreasing


# ------------------------------------------------------------------------------ choose_k

KS = list(range(2, 9))
ELBOW_AT_4 = [1000.0, 600.0, 200.0, 180.0, 165.0, 155.0, 150.0]


def table(silhouette: list[float], inertia: list[float] = ELBOW_AT_4) -> pd.DataFrame:
    return pd.DataFrame({"k": KS[: len(inertia)], "inertia": inertia, "silhouette": silhouette})


def with_evidence(frame: pd.DataFrame, jaccard: list[float], explained: list[float] | None = None) -> pd.DataFrame:
    return frame.assign(stability_min_jaccard=jaccard,
                        backtest_explained_share=explained if explained else [np.nan] * len(frame))


def test_choose_k_stability_confirms_the_geometric_choice():
    evaluation = with_evidence(table([0.45, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25]),
                               [0.9, 0.8, 0.7, 0.5, 0.5, 0.5, 0.5], [0.10, 0.15, 0.20, 0.21, 0.22, 0.23, 0.24])
    assert choose_k(evaluation) == (4, "knee of inertia at k=4; silhouette 0.41 (2nd best of 7); "
                                       "stable (min cluster Jaccard 0.70); "
                                       "backtest: explains 20% of next-period spend (k=8: 24%)")


def test_choose_k_stability_overrules_an_unstable_choice():
    evaluation = with_evidence(table([0.45, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25]),
                               [0.9, 0.55, 0.52, 0.61, 0.5, 0.5, 0.5])
    k, reason = choose_k(evaluation)
    assert k == 5  # nearest stable k to 4; 3 is unstable, 5 and 2 are not equally near
    assert reason == ("stability decided: k=4 (knee of inertia at k=4; silhouette 0.41 (2nd best of 7)) has a "
                      "cluster that does not reappear when refitted (min Jaccard 0.52 < 0.6); k=5 is the nearest "
                      "k whose clusters are all stable (min Jaccard 0.61)")
    tie = with_evidence(table([0.45, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25]), [0.9, 0.7, 0.52, 0.7, 0.5, 0.5, 0.5])
    assert choose_k(tie)[0] == 3  # equally near: the smaller k
    none = with_evidence(table([0.45, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25]), [0.5] * 7)
    k, reason = choose_k(none)
    assert k == 4 and reason.endswith("; no k has only stable clusters (min Jaccard 0.50 at k=4)")


def test_choose_k_at_the_knee():
    k, reason = choose_k(table([0.45, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25]))
    assert (k, reason) == (4, "knee of inertia at k=4; silhouette 0.41 (2nd best of 7)")


def test_choose_k_neighbour_of_the_knee_with_better_silhouette():
    k, reason = choose_k(table([0.30, 0.44, 0.41, 0.40, 0.30, 0.28, 0.25]))
    assert (k, reason) == (
        3,
        "knee of inertia at k=4; k=3 has the best silhouette within 1 of it, 0.44 (1st best of 7)",
    )


def test_choose_k_silhouette_tie_goes_to_smaller_k():
    assert choose_k(table([0.30, 0.44, 0.41, 0.44, 0.30, 0.28, 0.25]))[0] == 3


def test_choose_k_silhouette_overrules_only_when_clearly_better():
    k, reason = choose_k(table([0.80, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25]))
    assert (k, reason) == (
        2,
        "silhouette 0.80 at k=2 is clearly the best of 7, 0.39 above the best near the "
        "knee of inertia at k=4",
    )
    assert choose_k(table([0.50, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25]))[0] == 4  # 0.09 better
    assert choose_k(table([0.51, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25]))[0] == 2  # 0.10 better


def test_choose_k_ignores_row_order():
    shuffled = table([0.30, 0.44, 0.41, 0.40, 0.30, 0.28, 0.25]).sample(frac=1.0, random_state=1)
    assert choose_k(shuffled)[0] == 3


def test_choose_k_without_a_knee():
    straight = [700.0, 600.0, 500.0, 400.0, 300.0, 200.0, 100.0]
    assert choose_k(table([0.30, 0.31, 0.33, 0.29, 0.28, 0.27, 0.26], straight)) == (
        4,
        "no knee in the inertia curve; best silhouette 0.33 at k=4",
    )
    assert choose_k(table([0.52, 0.48], [10.0, 8.0])) == (
        2,
        "only 2 values of k, too few for a knee; best silhouette 0.52 at k=2",
    )


def test_choose_k_with_nothing_evaluable():
    evaluation = pd.DataFrame(
        {
            "k": [1],
            "inertia": [np.nan],
            "silhouette": [np.nan],
            "note": ["only 1 distinct customer"],
        }
    )
    assert choose_k(evaluation) == (1, "no k >= 2 could be evaluated: only 1 distinct customer")
    with pytest.raises(ClusteringError, match="evaluation is missing column"):
        choose_k(pd.DataFrame({"k": [2]}))


def test_mark_chosen():
    evaluation = table([0.45, 0.35, 0.41, 0.38, 0.30, 0.28, 0.25])
    marked = mark_chosen(evaluation, *choose_k(evaluation))
    assert marked["is_chosen"].tolist() == [False, False, True, False, False, False, False]
    assert marked.loc[marked["is_chosen"], "choice_reason"].item().startswith("knee of inertia")
    assert (marked.loc[~marked["is_chosen"], "choice_reason"] == "").all()
    assert "is_chosen" not in evaluation.columns  # input untouched
    assert not mark_chosen(evaluation, 12, "n_clusters override")["is_chosen"].any()


# ------------------------------------------------------------------------------ naming


def test_unique_names_suffix_later_repeats():
    assert unique_names(["A", "B", "A", "A"]) == ["A", "B", "A (2)", "A (3)"]


def test_value_words_use_thirds_of_the_population_with_ties_counted_half():
    # population (standardised space): value score = mean of columns 1 and 2; recency in days
    population = np.array([[r, v, v] for r, v in zip(range(9), range(9))], dtype=float)
    centres = np.array([[0.0, 8.0, 8.0], [4.0, 4.0, 4.0], [8.0, 0.0, 0.0], [2.0, 6.5, 6.5]])
    days = [5, 45, 400, 29]
    assert archetypes_for_centres(centres, population, days, RecencyBounds(30, 120)) == [
        "Recent High-Value",
        "Lapsing Mid-Value",
        "Dormant Low-Value",
        "Recent High-Value",
    ]
    # 40% of customers tied at the best value: a centre there is still "High-Value"
    tied = np.array([[0.0, 1.0, 1.0]] * 4 + [[0.0, 0.0, 0.0]] * 6)
    assert archetypes_for_centres(np.array([[0.0, 1, 1], [0.0, 0, 0]]), tied, [1, 1])[0] == (
        "Recent High-Value"
    )
    assert archetypes_for_centres(np.array([[3.0, 1.0, 1.0]]), population, [5]) == ["All Customers"]


def test_vocabulary():
    assert len(SEGMENT_ARCHETYPES) == 10 and len(set(SEGMENT_ARCHETYPES)) == 10
    assert SEGMENT_ARCHETYPES[0] == "Recent High-Value"
    assert "All Customers" in SEGMENT_ARCHETYPES


def test_shared_archetype_gets_a_name_that_says_why_it_differs():
    """Two distinct top groups that both read as "Recent High-Value": the second, fewer but
    bigger orders, is named for its difference and keeps the archetype (the strategy key)."""
    rng = np.random.default_rng(3)
    specs = [
        ((3, 40, 3000.0), 100),
        ((3, 8, 9000.0), 100),
        ((60, 3, 150.0), 300),
        ((300, 1, 20.0), 300),
    ]
    rows = []
    for (r, f, m), size in specs:
        noise = rng.lognormal(0.0, 0.05, size=(size, 3))
        rows.append(
            np.column_stack(
                [np.round(r * noise[:, 0]), np.round(f * noise[:, 1]), m * noise[:, 2]]
            )
        )
    values = np.vstack(rows)
    rfm = pd.DataFrame(values, columns=["recency_days", "frequency", "monetary"])
    rfm.insert(0, "customer_id", [f"c{i}" for i in range(len(rfm))])
    labels = fit_clusters(rfm, n_clusters=4, **arguments(FIT_CLUSTERS))
    names = labels.drop_duplicates("cluster_id").sort_values("cluster_id")
    assert names["segment_name"].tolist()[:2] == ["Recent High-Value", "Recent High-Value, fewer orders"]
    assert names["segment_archetype"].tolist()[:2] == ["Recent High-Value"] * 2


# --------------------------------------------------------------------------- edge cases


def test_zero_customers():
    empty = pd.DataFrame(columns=["customer_id", "recency_days", "frequency", "monetary"])
    expected = r"^no customers to cluster: customer_rfm has 0 rows$"
    calls = (lambda d: evaluate_k(d, **arguments(EVALUATE_K)), lambda d: fit_clusters(d, 3, **arguments(FIT_CLUSTERS)), prepare_features)
    for call in calls:
        with pytest.raises(ClusteringError, match=expected):
            call(empty)


def test_one_customer():
    rfm = pd.DataFrame([one_row("only", 10, 2, 50.0)])
    evaluation = evaluate_k(rfm, **arguments(EVALUATE_K))
    assert evaluation["k"].tolist() == [1]
    metrics = ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"]
    assert evaluation[metrics].isna().all().all()
    assert evaluation["note"].item() == (
        "only 1 distinct customer: silhouette needs k <= 0, which leaves no k in 2..8"
    )
    k, reason = choose_k(evaluation)
    assert k == 1 and reason.startswith("no k >= 2 could be evaluated: only 1 distinct customer")
    labels = fit_clusters(rfm, n_clusters=k, **arguments(FIT_CLUSTERS))
    assert labels.to_dict("records") == [
        {
            "customer_id": "only",
            "cluster_id": 1,
            "segment_name": "All Customers",
            "segment_archetype": "All Customers",
        }
    ]
    centroid = cluster_centroids(rfm, labels)
    centre = centroid[["recency_days", "frequency", "monetary"]].to_numpy()
    np.testing.assert_allclose(centre, [[10, 2, 50]])


def test_all_customers_identical():
    rfm = pd.DataFrame([one_row(f"c{i}", 30, 1, 19.99) for i in range(50)])
    evaluation = evaluate_k(rfm, **arguments(EVALUATE_K))
    assert evaluation["k"].tolist() == [1]
    assert choose_k(evaluation)[0] == 1
    labels = fit_clusters(rfm, n_clusters=1, **arguments(FIT_CLUSTERS))
    assert (labels["cluster_id"] == 1).all() and (labels["segment_name"] == "All Customers").all()
    with pytest.raises(
        ClusteringError,
        match=r"^cannot make 3 clusters: customer_rfm has only 1 distinct customer\(s\) "
        r".* among 50; ask for at most 1$",
    ):
        fit_clusters(rfm, n_clusters=3, **arguments(FIT_CLUSTERS))


def test_heavy_ties_and_fewer_distinct_than_k():
    # 90 customers, only 3 distinct (R, F, M) points
    points = [(2, 5, 500.0), (40, 2, 80.0), (200, 1, 15.0)]
    rfm = pd.DataFrame([one_row(f"c{i:02d}", *points[i % 3]) for i in range(90)])
    evaluation = evaluate_k(rfm, **arguments(EVALUATE_K))
    assert evaluation["k"].tolist() == [2]  # silhouette needs k <= distinct - 1
    assert evaluation["note"].item() == (
        "only 3 distinct customers: silhouette needs k <= 2, so k_max=8 was lowered to 2"
    )
    assert np.isfinite(evaluation["silhouette"].item())
    labels = fit_clusters(rfm, n_clusters=3, **arguments(FIT_CLUSTERS))
    assert labels["cluster_id"].tolist() == [1, 2, 3] * 30  # one point each, by value
    assert labels["segment_name"].nunique() == 3
    with pytest.raises(ClusteringError, match=r"cannot make 4 clusters: customer_rfm has only 3 "):
        fit_clusters(rfm, n_clusters=4, **arguments(FIT_CLUSTERS))


def test_rare_point_missed_by_the_fit_sample_still_gets_its_cluster():
    points = [(2, 5, 500.0)] * 500 + [(40, 2, 80.0)] * 300 + [(200, 1, 15.0)] * 199
    points.append((1, 90, 90_000.0))  # one whale among 1000 customers
    rfm = pd.DataFrame([one_row(f"c{i:04d}", *p) for i, p in enumerate(points)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "fewer distinct clusters than n_clusters" warning
        labels = fit_clusters(rfm, n_clusters=4, **arguments(FIT_CLUSTERS), fit_sample_size=50)
    assert labels["cluster_id"].value_counts().sort_index().tolist() == [1, 500, 300, 199]
    assert labels["cluster_id"].iloc[-1] == 1


def test_two_distinct_customers_evaluate_to_k_1():
    rfm = pd.DataFrame([one_row("a", 1, 1, 10.0), one_row("b", 100, 9, 900.0)])
    assert evaluate_k(rfm, **arguments(EVALUATE_K))["k"].tolist() == [1]
    assert fit_clusters(rfm, n_clusters=2, **arguments(FIT_CLUSTERS))["cluster_id"].tolist() == [2, 1]  # b is more valuable


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.assign(monetary=[None, None, None, 5.0]),
            "customer_rfm has 3 rows with null monetary",
        ),
        (
            lambda d: d.assign(recency_days=[1, 2, -3, 4]),
            "customer_rfm has 1 row with negative recency_days",
        ),
        (
            lambda d: d.assign(frequency=[1, 2, np.inf, 4]),
            "customer_rfm has 1 row with infinite frequency",
        ),
        (
            lambda d: d.drop(columns=["frequency"]),
            "customer_rfm is missing column(s): frequency",
        ),
        (
            lambda d: d.assign(customer_id=["a", "a", "b", None]),
            "customer_rfm has 1 row with null customer_id",
        ),
        (
            lambda d: d.assign(customer_id=["a", "a", "b", "c"]),
            "customer_rfm has 1 duplicated customer_id value(s); expected one row per customer",
        ),
        (
            lambda d: d.assign(monetary=["x", "1", "2", "3"]),
            "customer_rfm column monetary is not numeric (dtype str)",
        ),
    ],
)
def test_invalid_input_is_a_one_line_clustering_error(change, message):
    good = pd.DataFrame([one_row(c, i + 1, i + 1, 10.0 * (i + 1)) for i, c in enumerate("abcd")])
    bad = change(good)
    calls = (lambda: prepare_features(bad), lambda: evaluate_k(bad, **arguments(EVALUATE_K)),
             lambda: fit_clusters(bad, 2, **arguments(FIT_CLUSTERS)))
    for call in calls:
        with pytest.raises(ClusteringError) as raised:
            call()
        assert str(raised.value) == message
    assert issubclass(ClusteringError, ValueError)


def test_bad_arguments():
    rfm, _ = make_blobs()
    for bad in (0, -2, 2.5, "3", None, True):
        with pytest.raises(ClusteringError, match="n_clusters must be a positive integer"):
            fit_clusters(rfm, n_clusters=bad, **arguments(FIT_CLUSTERS))
    assert fit_clusters(rfm, n_clusters=np.int64(4), **arguments(FIT_CLUSTERS))["cluster_id"].max() == 4
    with pytest.raises(ClusteringError, match="need 2 <= k_min <= k_max"):
        evaluate_k(rfm, **arguments(EVALUATE_K, k_min=5, k_max=3))


def test_decimal_monetary_as_duckdb_may_return_it(blobs, blob_labels):
    rfm, _ = blobs
    as_decimal = rfm.assign(monetary=[Decimal(f"{m:.2f}") for m in rfm["monetary"]])
    labels = fit_clusters(as_decimal, n_clusters=4, **arguments(FIT_CLUSTERS), recency_bounds=BLOB_BOUNDS)
    pd.testing.assert_frame_equal(labels, blob_labels)


def test_prepare_features_is_standardised_log1p(blobs):
    rfm, _ = blobs
    X, scaler = prepare_features(rfm)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1)
    back = np.expm1(scaler.inverse_transform(X))
    np.testing.assert_allclose(back, rfm[["recency_days", "frequency", "monetary"]].to_numpy(float))
