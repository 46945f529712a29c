"""Behaviour + attribute clustering (rfm_segments.clustering.encode_attributes): quick, seeded, no I/O."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from rfm_segments.clustering import ClusteringError, encode_attributes, evaluate_k, fit_clusters
from rfm_segments.project_vars import EVALUATE_K, MODEL_HISTORY, arguments, project_vars
from rfm_segments.stability import add_k_evidence, cluster_stability


def long_attributes(frame: pd.DataFrame, numeric: tuple[str, ...]) -> pd.DataFrame:
    """A wide per-customer frame as int_customer_attributes rows (None = missing)."""
    rows = []
    for column in frame.columns.drop("customer_id"):
        for customer_id, value in zip(frame.customer_id, frame[column]):
            is_numeric, absent = column in numeric, pd.isna(value)
            rows.append({"customer_id": customer_id, "attribute_name": column,
                         "attribute_type": "numeric" if is_numeric else "categorical",
                         "value_number": float(value) if is_numeric and not absent else np.nan,
                         "attribute_value": "(missing)" if absent else str(value)})
    return pd.DataFrame(rows)


def test_encoding_scales_each_attribute_to_one_unit_and_counts_missing_values():
    ids = pd.Series(["a", "b", "c", "d"])
    wide = pd.DataFrame({"customer_id": ["d", "c", "b", "a"], "age": [40, None, 20, 30],
                         "job": ["nurse", "nurse", None, "teacher"]})
    features, encoding = encode_attributes(ids, long_attributes(wide, ("age",)), weight=1.0)
    assert list(features.customer_id) == ["a", "b", "c", "d"]
    assert encoding.features == {"attribute__0": "age", "attribute__1": "job=nurse", "attribute__2": "job=teacher"}
    assert encoding.missing == {"age": 1, "job": 1}
    # age a=30, b=20, c=missing -> median 30, d=40; standardised, times sqrt(1 * 3 / 2 attributes)
    age = np.array([30.0, 20.0, 30.0, 40.0])
    expected = (age - age.mean()) / age.std() * np.sqrt(1.5)
    assert np.allclose(features["attribute__0"], expected)
    # the job block (two standardised indicators / sqrt(2)) has total variance 1 before weighting
    block = features[["attribute__1", "attribute__2"]].to_numpy() / np.sqrt(1.5)
    assert block.var(axis=0).sum() == pytest.approx(1.0)
    assert features.drop(columns="customer_id").var(axis=0, ddof=0).sum() == pytest.approx(3.0)
    # b has no job: no category (its indicators sit at minus the mean)
    assert features.loc[1, "attribute__1"] < 0 and features.loc[1, "attribute__2"] < 0
    with pytest.raises(ClusteringError, match="weight must be positive"):
        encode_attributes(ids, long_attributes(wide, ("age",)), weight=0)


def planted_customers(seed: int = 3, n: int = 600) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Identical behaviour in two halves that differ only by occupation and age."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 2
    rfm = pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(n)],
                        "recency_days": rng.integers(1, 300, n), "frequency": rng.integers(1, 20, n),
                        "monetary": rng.lognormal(6, 1, n)})
    wide = pd.DataFrame({"customer_id": rfm.customer_id,
                         "age": np.where(group == 1, rng.integers(25, 35, n), rng.integers(50, 80, n)),
                         "job": np.where(group == 1, "nurse", "teacher")})
    wide.loc[::50, "age"] = None
    return rfm, long_attributes(wide, ("age",)), group


def test_attributes_change_the_clusters_only_when_added():
    rfm, attributes, group = planted_customers()
    behaviour = fit_clusters(rfm, n_clusters=2, seed=1)
    features, encoding = encode_attributes(rfm.customer_id, attributes, weight=2.0)
    both = fit_clusters(rfm.merge(features, on="customer_id"), n_clusters=2, seed=1)
    assert encoding.missing == {"age": 12, "job": 0}
    assert adjusted_rand_score(group, both.cluster_id) > 0.95  # the planted split is found
    assert adjusted_rand_score(group, behaviour.cluster_id) < 0.05  # behaviour alone cannot see it
    # named by behaviour (the attribute dimensions never become a name's qualifier)
    assert both.segment_name.nunique() == 2 and not both.segment_name.str.contains("attribute").any()


def test_k_evidence_and_stability_take_the_attribute_features_unchanged():
    rfm, attributes, group = planted_customers()
    features, _ = encode_attributes(rfm.customer_id, attributes, weight=2.0)
    combined = rfm.merge(features, on="customer_id")
    evaluation = evaluate_k(combined, **arguments(EVALUATE_K, k_max=4, seed=1))
    assert evaluation.set_index("k").silhouette.idxmax() == 2
    labels = fit_clusters(combined, n_clusters=2, seed=1)
    stability = cluster_stability(combined, labels, n_resamples=5, seed=1, sample_size=300)
    assert (stability.mean_jaccard > 0.95).all()
    evidence = add_k_evidence(evaluation, combined, n_resamples=3, seed=1, sample_size=300)
    assert evidence.set_index("k").stability_min_jaccard[2] > 0.9


# ---------------------------------------------------------------- the clustering step (var cluster_on_attributes)

STEP = {**project_vars(), "k_max": 3, "n_clusters": None, "k_stability_resamples": 3, "k_stability_sample_size": 300}


def test_the_clustering_step_is_untouched_when_the_option_is_off():
    from rfm_segments import clustering_step

    rfm, attributes, _ = planted_customers(n=300)
    off = {**STEP, "cluster_on_attributes": "False", "attribute_cluster_weight": "1"}
    assert clustering_step.with_attributes(rfm, attributes, off) is rfm  # the same frame, not a copy
    assert clustering_step.with_attributes(rfm, attributes, {}) is rfm  # no key: the default, off
    pd.testing.assert_frame_equal(clustering_step.k_evaluation(rfm, None, off, attributes),
                                  clustering_step.k_evaluation(rfm, None, STEP))
    assert len(clustering_step.attribute_features(rfm, attributes, off)) == 0


def test_the_clustering_step_on_attributes_widens_evidence_and_fit_and_records_the_encoding():
    from rfm_segments import clustering_step
    from rfm_segments.naming import DEFAULT_RECENCY_BOUNDS

    rfm, attributes, group = planted_customers(n=300)
    on = {**STEP, "cluster_on_attributes": "True", "attribute_cluster_weight": "1"}
    widened = clustering_step.k_evaluation(rfm, None, on, attributes)
    assert not np.allclose(widened.silhouette, clustering_step.k_evaluation(rfm, None, STEP).silhouette)
    labels = clustering_step.customer_clusters(rfm, 2, DEFAULT_RECENCY_BOUNDS, on, attributes)
    assert list(labels.columns) == ["customer_id", "cluster_id", "segment_name", "segment_archetype"]
    assert adjusted_rand_score(group, labels.cluster_id) > 0.9  # the planted halves, which behaviour cannot see
    features = clustering_step.attribute_features(rfm, attributes, on)
    assert features.to_dict("records") == [
        {"feature_column": "attribute__0", "attribute_name": "age", "category": None, "missing_customers": 6, "weight": 1.0},
        {"feature_column": "attribute__1", "attribute_name": "job", "category": "nurse", "missing_customers": 0, "weight": 1.0},
        {"feature_column": "attribute__2", "attribute_name": "job", "category": "teacher", "missing_customers": 0, "weight": 1.0}]


def test_attribute_features_name_hostile_attributes_and_keep_an_attribute_without_values():
    from rfm_segments import clustering_step

    ids = pd.Series(["a", "b", "c"])
    wide = pd.DataFrame({"customer_id": ids, 'job="x"=y': ["o'neil", "a=b", None], "empty": [None, None, None]})
    on = {"cluster_on_attributes": True, "attribute_cluster_weight": 0.5}
    features = clustering_step.attribute_features(pd.DataFrame({"customer_id": ids}), long_attributes(wide, ()), on)
    assert features.to_dict("records") == [
        {"feature_column": "attribute__0", "attribute_name": 'job="x"=y', "category": "a=b", "missing_customers": 1, "weight": 0.5},
        {"feature_column": "attribute__1", "attribute_name": 'job="x"=y', "category": "o'neil", "missing_customers": 1, "weight": 0.5},
        {"feature_column": None, "attribute_name": "empty", "category": None, "missing_customers": 3, "weight": 0.5}]


# ---------------------------------------------------------------- the stored models (segments over time)

def test_a_fitted_encoding_applies_its_own_numbers_to_other_customers():
    from rfm_segments.clustering import apply_attribute_encoding, fit_attribute_encoding

    rfm, attributes, _ = planted_customers(n=200)
    features, encoding = encode_attributes(rfm.customer_id, attributes, weight=1.0)
    pd.testing.assert_frame_equal(apply_attribute_encoding(rfm.customer_id, attributes, encoding), features)
    age, nurse = encoding.dimensions[0], encoding.dimensions[1]
    ages = attributes[attributes.attribute_name == "age"].value_number
    assert (age.attribute_name, age.category, age.fill_value) == ("age", None, ages.median())
    assert age.centre == pytest.approx(ages.fillna(ages.median()).mean())
    assert age.scale == pytest.approx(ages.fillna(ages.median()).std(ddof=0))
    assert age.factor == pytest.approx(np.sqrt(1.5))  # weight 1 x 3 behaviour features / 2 attributes
    assert (nurse.category, nurse.centre, nurse.factor) == ("nurse", 0.5, pytest.approx(np.sqrt(1.5) / np.sqrt(2)))
    # other customers: an unseen category and a missing age get the fitted numbers, not their own
    others = pd.DataFrame({"customer_id": ["x", "x", "y", "y"], "attribute_name": ["age", "job", "age", "job"],
                           "attribute_type": ["numeric", "categorical"] * 2,
                           "value_number": [99.0, np.nan, np.nan, np.nan],
                           "attribute_value": ["99", "pilot", "(missing)", "nurse"]})
    scored = apply_attribute_encoding(pd.Series(["x", "y"]), others, encoding).set_index("customer_id")
    assert scored.loc["x", "attribute__0"] == pytest.approx((99 - age.centre) / age.scale * age.factor)
    assert scored.loc["y", "attribute__0"] == pytest.approx((age.fill_value - age.centre) / age.scale * age.factor)
    assert scored.loc["x", "attribute__1"] == pytest.approx(-0.5 / nurse.scale * nurse.factor)  # pilot: no category
    assert scored.loc["y", "attribute__1"] == pytest.approx(0.5 / nurse.scale * nurse.factor)
    assert fit_attribute_encoding(rfm.customer_id, attributes, 1.0).dimensions == encoding.dimensions


def _score_from_stored_numbers(rfm: pd.DataFrame, attributes: pd.DataFrame, versions: pd.DataFrame,
                               centres: pd.DataFrame) -> np.ndarray:
    """What int_snapshot_customer_clusters computes: the nearest stored centre, behaviour and
    attribute dimensions, from the stored numbers only (one model version)."""
    from rfm_segments.clustering import FEATURES

    distance = np.zeros((len(rfm), len(versions)))
    for j, cluster in enumerate(versions.itertuples()):
        for f in FEATURES:
            x = (np.log1p(rfm[f].astype(float)) - getattr(cluster, f"{f}_log_mean")) / getattr(cluster, f"{f}_log_scale")
            distance[:, j] += (x.to_numpy() - getattr(cluster, f"{f}_centroid")) ** 2
        for d in centres[centres.cluster_id == cluster.cluster_id].itertuples():
            rows = attributes[attributes.attribute_name == d.attribute_name].set_index("customer_id").reindex(rfm.customer_id)
            if pd.isna(d.attribute_category):
                raw = rows.value_number.fillna(d.attribute_fill_value).to_numpy()
            else:
                raw = (rows.attribute_value == d.attribute_category).to_numpy(dtype=float)
            distance[:, j] += ((raw - d.attribute_centre) / d.attribute_scale * d.attribute_factor - d.attribute_centroid) ** 2
    return versions.cluster_id.to_numpy()[distance.argmin(axis=1)]


def test_the_stored_models_cluster_on_attributes_and_their_numbers_score_alone():
    from rfm_segments.drift import model_history

    rfm, attributes, group = planted_customers(n=400)
    snapshot = rfm.assign(snapshot_date=pd.Timestamp("2021-01-01"), first_purchase_date=pd.Timestamp("2020-01-01"))
    rules = pd.DataFrame({"metric": ["max_feature_psi"], "watch_at": [0.1], "retrain_at": [0.25]})
    history = model_history(snapshot, n_clusters=2, rules=rules, attributes=attributes, attribute_weight=2.0,
                            **arguments(MODEL_HISTORY, seed=1))
    centres = history.attribute_centres
    assert len(centres) == 2 * 3 and set(centres.attribute_name) == {"age", "job"}  # 2 clusters x (age, 2 jobs)
    served = _score_from_stored_numbers(rfm, attributes, history.versions, centres)
    assert adjusted_rand_score(group, served) > 0.95  # the planted split, which behaviour alone cannot see
    fresh = fit_clusters(rfm.merge(encode_attributes(rfm.customer_id, attributes, weight=2.0)[0]), n_clusters=2, seed=1)
    assert (served == fresh.cluster_id.to_numpy()).mean() > 0.99  # the stored model is the fresh fit
    assert model_history(snapshot, n_clusters=2, rules=rules, **arguments(MODEL_HISTORY, seed=1)).attribute_centres.empty  # option off
