"""Segments over time: a frozen K-Means model, drift against its training data, and when to refit.

The dbt Python models call one function::

    history = model_history(snapshot_rfm, n_clusters=k, rules=rules, seed=..., auto_refit=..., min_training_customers=...)
    history.versions       # the stored models: scaler, centroids (scaled space), names, window
    history.attribute_centres  # with attributes: their encoding and the centroids in those dimensions
    history.feature_drift  # PSI, KL, JS per feature per snapshot against the model's training data
    history.checks         # per snapshot: drift summary, assignment drift, keep / watch / retrain

`snapshot_rfm` has one row per customer per snapshot (snapshot_date, customer_id, recency_days,
frequency, monetary). Everything is a pure, seeded function of its arguments.

With `attributes` (intermediate.int_customer_attributes, long; var cluster_on_attributes) every
model is fitted on behaviour + the attributes, encoded by rfm_segments.clustering's
fit_attribute_encoding on the model's training customers; the encoding's numbers and the
centroids in those dimensions are stored with the model (`attribute_centres`), so that the SQL
scoring applies the same numbers. Customers of every snapshot get today's attributes (they have
no history). Drift stays measured on the behaviour features; refits keep cluster ids by matching
centres on behaviour (names are behaviour's too).

Drift maths (all on histograms whose bins are the training distribution's quantiles):

- proportions are smoothed with a pseudo-count of SMOOTHING per bin before PSI and KL, since an
  empty bin makes both infinite: p_i = (n_i + a) / (n + a * bins);
- PSI = sum (q_i - p_i) ln(q_i / p_i)  (training p, snapshot q); bands by seed retraining_rules;
- KL divergence = sum q_i ln(q_i / p_i) (natural log, snapshot relative to training);
- Jensen-Shannon distance = sqrt of the JS divergence in bits (0..1), on unsmoothed proportions
  (it is finite with empty bins), as scipy.spatial.distance.jensenshannon(p, q, base=2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from rfm_segments.clustering import (
    FEATURES,
    AttributeEncoding,
    ClusteringError,
    _n_distinct,
    apply_attribute_encoding,
    centre_recency_days,
    fit_attribute_encoding,
    fit_ordered_kmeans,
    prepare_features,
)
from rfm_segments.naming import DEFAULT_RECENCY_BOUNDS, RecencyBounds, archetypes_for_centres, unique_names

__all__ = [
    "N_BINS",
    "SMOOTHING",
    "quantile_bin_edges",
    "bin_counts",
    "smoothed_proportions",
    "population_stability_index",
    "kl_divergence",
    "jensen_shannon_distance",
    "psi_band",
    "recommend",
    "match_clusters",
    "nearest_centroid",
    "ModelHistory",
    "model_history",
    "HISTORY_RECORDS",
    "history_long_table",
]

#: Bins per feature: the training distribution's deciles (fewer where ties merge edges).
N_BINS = 10
#: Pseudo-count added to every bin before PSI and KL.
SMOOTHING = 0.5
LEVELS = ("keep", "watch", "retrain")


# ------------------------------------------------------------------------- histograms


def quantile_bin_edges(training: NDArray[np.float64], n_bins: int = N_BINS) -> NDArray[np.float64]:
    """Inner bin edges: the distinct 1/n_bins .. (n_bins-1)/n_bins quantiles of the training values.

    Bins are (-inf, e1], (e1, e2], ..., (e_last, inf): a value equal to an edge falls in the lower
    bin, so heavy ties (frequency 1) make one bin rather than many empty ones.
    """
    values = np.asarray(training, dtype=float)
    if len(values) == 0:
        raise ValueError("no training values to take quantiles of")
    return np.unique(np.quantile(values, np.arange(1, n_bins) / n_bins))


def bin_counts(values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """How many values fall in each of the len(edges) + 1 bins defined by `quantile_bin_edges`."""
    index = np.searchsorted(edges, np.asarray(values, dtype=float), side="left")
    return np.bincount(index, minlength=len(edges) + 1).astype(np.int64)


def smoothed_proportions(counts: NDArray[np.int64], smoothing: float = SMOOTHING) -> NDArray[np.float64]:
    counts = np.asarray(counts, dtype=float)
    return (counts + smoothing) / (counts.sum() + smoothing * len(counts))


def population_stability_index(expected: NDArray[np.int64], actual: NDArray[np.int64]) -> float:
    """PSI of bin counts `actual` (snapshot) against `expected` (training), smoothed."""
    p, q = smoothed_proportions(expected), smoothed_proportions(actual)
    return float(np.sum((q - p) * np.log(q / p)))


def kl_divergence(expected: NDArray[np.int64], actual: NDArray[np.int64]) -> float:
    """KL(actual || expected) in nats, smoothed: how surprising the snapshot is under training."""
    p, q = smoothed_proportions(expected), smoothed_proportions(actual)
    return float(np.sum(q * np.log(q / p)))


def jensen_shannon_distance(expected: NDArray[np.int64], actual: NDArray[np.int64]) -> float:
    """Jensen-Shannon distance (base 2, 0..1) of the two unsmoothed bin distributions."""
    p = np.asarray(expected, dtype=float) / np.sum(expected)
    q = np.asarray(actual, dtype=float) / np.sum(actual)
    m = (p + q) / 2

    def kl_bits(a: NDArray[np.float64]) -> float:
        used = a > 0
        return float(np.sum(a[used] * np.log2(a[used] / m[used])))

    return float(np.sqrt(max((kl_bits(p) + kl_bits(q)) / 2, 0.0)))


def psi_band(psi: float, moderate_at: float, significant_at: float) -> str:
    """The thresholds are the max_feature_psi row of seed retraining_rules (watch_at, retrain_at)."""
    if psi >= significant_at:
        return "significant"
    return "moderate" if psi >= moderate_at else "stable"


# ------------------------------------------------------------------ recommendation rule


def recommend(metrics: dict[str, float], rules: pd.DataFrame) -> tuple[str, str]:
    """keep / watch / retrain, and why, from the seed `retraining_rules`.

    Rule: retrain when any metric reaches its retrain_at threshold, watch when any reaches its
    watch_at, else keep. A metric missing from `metrics` (or NaN) is skipped.
    """
    level, reasons = 0, []
    for rule in rules.itertuples(index=False):
        value = metrics.get(str(rule.metric), float("nan"))
        if value is None or not np.isfinite(value):
            continue
        if value >= float(rule.retrain_at):
            level = max(level, 2)
            reasons.append(f"{rule.metric} {value:.3f} >= retrain_at {float(rule.retrain_at):g}")
        elif value >= float(rule.watch_at):
            level = max(level, 1)
            reasons.append(f"{rule.metric} {value:.3f} >= watch_at {float(rule.watch_at):g}")
    return LEVELS[level], "; ".join(reasons) if reasons else "every metric below its watch_at"


# --------------------------------------------------------------------- model pieces


def nearest_centroid(X: NDArray[np.float64], centres: NDArray[np.float64]) -> NDArray[np.intp]:
    """Index of the nearest centre (squared Euclidean) for each row; ties go to the lower index."""
    distances = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(distances, axis=1)


def match_clusters(previous: NDArray[np.float64], new: NDArray[np.float64]) -> NDArray[np.intp]:
    """For each new centre, the index of the previous centre it continues (Hungarian assignment
    minimising the total centre distance; both in the same space). -1 where the refit has more
    clusters than the previous model."""
    cost = np.sqrt(((new[:, None, :] - previous[None, :, :]) ** 2).sum(axis=2))
    rows, cols = linear_sum_assignment(cost)
    matched = np.full(len(new), -1, dtype=np.intp)
    matched[rows] = cols
    return matched


@dataclass(frozen=True)
class _Model:
    version: int
    trained_as_of: date
    reason: str
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    centres: NDArray[np.float64]  # scaled space, row i = cluster_ids[i]
    cluster_ids: NDArray[np.int64]
    names: list[str]
    archetypes: list[str]
    training_customers: int
    training_window_start: date
    edges: list[NDArray[np.float64]]  # per feature
    training_counts: list[NDArray[np.int64]]
    encoding: AttributeEncoding | None = None  # attribute dimensions after the behaviour ones

    def scale_features(self, rfm: pd.DataFrame, attributes: pd.DataFrame | None = None) -> NDArray[np.float64]:
        logs = np.column_stack([np.log1p(rfm[c].to_numpy(dtype=float)) for c in FEATURES])
        return _with_attribute_features((logs - self.mean) / self.scale, rfm, attributes, self.encoding)

    def assign(self, rfm: pd.DataFrame, attributes: pd.DataFrame | None = None) -> NDArray[np.int64]:
        return self.cluster_ids[nearest_centroid(self.scale_features(rfm, attributes), self.centres)]


def _with_attribute_features(X: NDArray[np.float64], rfm: pd.DataFrame, attributes: pd.DataFrame | None,
                             encoding: AttributeEncoding | None) -> NDArray[np.float64]:
    """The behaviour features X with the encoded attribute features of rfm's customers appended."""
    if encoding is None or not encoding.dimensions:
        return X
    encoded = apply_attribute_encoding(rfm["customer_id"], attributes, encoding)
    return np.column_stack([X, encoded.drop(columns="customer_id").to_numpy(dtype=np.float64)])


@dataclass(frozen=True)
class _Attributes:
    """The customers' attributes (int_customer_attributes rows) and their weight in the fit."""
    rows: pd.DataFrame
    weight: float


def _fit(
    rfm: pd.DataFrame, n_clusters: int, seed: int, attributes: _Attributes | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
           AttributeEncoding | None]:
    """(scaler mean, scaler scale, centres in feature space ordered by value, X, attribute
    encoding), the features being behaviour (+ the attributes, encoded on these customers)."""
    X, scaler = prepare_features(rfm)
    encoding = None
    if attributes is not None:
        encoding = fit_attribute_encoding(rfm["customer_id"], attributes.rows, attributes.weight)
        X = _with_attribute_features(X, rfm, attributes.rows, encoding)
    k = min(n_clusters, _n_distinct(X))
    _, centres = fit_ordered_kmeans(X, k, seed)
    return scaler.mean_, scaler.scale_, centres, X, encoding


def _new_model(
    rfm: pd.DataFrame, snapshot: date, version: int, reason: str, n_clusters: int, seed: int,
    previous: _Model | None, bounds: RecencyBounds = DEFAULT_RECENCY_BOUNDS,
    attributes: _Attributes | None = None,
) -> _Model:
    mean, scale, centres, X, encoding = _fit(rfm, n_clusters, seed, attributes)
    days = centre_recency_days(centres, mean, scale)
    behaviour = centres[:, :len(FEATURES)]  # names and cluster matching: behaviour only
    if previous is None:
        ids = np.arange(1, len(centres) + 1, dtype=np.int64)
        archetypes = archetypes_for_centres(centres, X, days, bounds)
        names = unique_names(archetypes, behaviour)
    else:
        # Previous centres moved into the new scaled space, then matched: persisting clusters
        # keep their id; they keep their name too while their archetype holds (words keep within
        # the naming margin), else they are renamed. A cluster with no predecessor gets a fresh id.
        previous_logs = previous.centres[:, :len(FEATURES)] * previous.scale + previous.mean
        matched = match_clusters((previous_logs - mean) / scale, behaviour)
        before = [previous.archetypes[j] if j >= 0 else None for j in matched]
        archetypes = archetypes_for_centres(centres, X, days, bounds, before)
        kept = [
            previous.names[j] if j >= 0 and archetypes[i] == previous.archetypes[j] else None
            for i, j in enumerate(matched)
        ]
        names = unique_names(archetypes, behaviour, kept)
        next_id = int(previous.cluster_ids.max()) + 1
        ids = np.empty(len(centres), dtype=np.int64)
        for i, j in enumerate(matched):
            if j >= 0:
                ids[i] = previous.cluster_ids[j]
            else:
                ids[i], next_id = next_id, next_id + 1
    edges = [quantile_bin_edges(rfm[c].to_numpy(dtype=float)) for c in FEATURES]
    counts = [bin_counts(rfm[c].to_numpy(dtype=float), e) for c, e in zip(FEATURES, edges)]
    return _Model(
        version=version, trained_as_of=snapshot, reason=reason, mean=mean, scale=scale,
        centres=centres, cluster_ids=ids, names=names, archetypes=archetypes,
        training_customers=len(rfm),
        training_window_start=pd.Timestamp(rfm["first_purchase_date"].min()).date()
        if "first_purchase_date" in rfm.columns else snapshot,
        edges=edges, training_counts=counts, encoding=encoding,
    )


# ----------------------------------------------------------------------- the history


@dataclass(frozen=True)
class ModelHistory:
    versions: pd.DataFrame
    feature_drift: pd.DataFrame
    checks: pd.DataFrame
    attribute_centres: pd.DataFrame


#: The `record` value of each table of a ModelHistory in its long table (history_long_table).
HISTORY_RECORDS = {"model_version": "versions", "feature_drift": "feature_drift", "retraining_check": "checks",
                   "model_attribute_centre": "attribute_centres"}


def history_long_table(history: ModelHistory) -> pd.DataFrame:
    """The three tables of `history` as one long table, so that one dbt model replays the history
    once and typed SQL models select their rows (`where record = '<record>'`).

    Columns: `record` (a key of HISTORY_RECORDS), then the union of the tables' columns, null where
    a record has no such column. Integer columns stay integers (nullable Int64), so every value
    reads back exactly as its table had it.
    """
    frames = []
    for record, table in HISTORY_RECORDS.items():
        frame = getattr(history, table)
        integers = {c: "Int64" for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])}
        frames.append(frame.astype(integers).assign(record=record))
    long = pd.concat(frames, ignore_index=True)
    return long[["record", *(c for c in long.columns if c != "record")]]


def _as_date(value: object) -> date:
    return pd.Timestamp(value).date()


def model_history(
    snapshot_rfm: pd.DataFrame,
    n_clusters: int,
    rules: pd.DataFrame,
    *,
    seed: int,
    training_date: object | None = None,
    refit_dates: list[object] | tuple[object, ...] = (),
    auto_refit: bool,
    min_training_customers: int,
    recency_bounds: dict[date, RecencyBounds] | None = None,
    attributes: pd.DataFrame | None = None,
    attribute_weight: float | None = None,
) -> ModelHistory:
    """Fit the model once, score every later snapshot against it, measure drift, refit when asked
    (a date in `refit_dates`) or when the rule says retrain (if `auto_refit`).

    The first model is trained at `training_date` (a snapshot date), or by default at the first
    snapshot with at least `min_training_customers` customers (the last one if none has).
    Snapshots before it get no checks. A refit's clusters are matched to the model it replaces by
    centroid distance (Hungarian), so ids and names persist; it serves from its snapshot on.
    Recency words in names use `recency_bounds` of the training snapshot (default: naming's
    DEFAULT_RECENCY_BOUNDS). With `attributes` (int_customer_attributes rows, weighted by
    `attribute_weight`) the models cluster on behaviour + attributes (see the module's docstring).
    """
    bounds_at = recency_bounds or {}
    if attributes is not None and attribute_weight is None:
        raise TypeError("model_history: attributes need their attribute_weight (var attribute_cluster_weight)")
    with_attributes = None if attributes is None else _Attributes(attributes, float(attribute_weight))
    if snapshot_rfm.empty:
        raise ClusteringError("no snapshots to model: int_snapshot_customer_rfm has 0 rows")
    frame = snapshot_rfm.assign(snapshot_date=pd.to_datetime(snapshot_rfm["snapshot_date"]).dt.date)
    frame = frame.sort_values(["snapshot_date", "customer_id"], kind="stable")
    groups = {d: g.reset_index(drop=True) for d, g in frame.groupby("snapshot_date", sort=True)}
    snapshots = sorted(groups)
    if training_date is not None:
        start = _as_date(training_date)
        if start not in groups:
            raise ClusteringError(f"history_training_date {start} is not a snapshot date")
    else:
        big = [d for d in snapshots if len(groups[d]) >= min_training_customers]
        start = big[0] if big else snapshots[-1]
    asked = {_as_date(d) for d in refit_dates}

    model: _Model | None = None
    models: list[_Model] = []
    drift_rows: list[dict[str, object]] = []
    check_rows: list[dict[str, object]] = []
    for snapshot in (d for d in snapshots if d >= start):
        rfm = groups[snapshot]
        if model is None:
            model = _new_model(rfm, snapshot, 1, "initial fit", n_clusters, seed, None,
                               bounds_at.get(snapshot, DEFAULT_RECENCY_BOUNDS), with_attributes)
            models.append(model)
            check_rows.append(_check_row(snapshot, model, len(rfm), 0.0, 0.0, 1.0, "keep",
                                         "training snapshot", "initial fit"))
            continue
        metrics_psi = []
        bands = _psi_bands(rules)
        for c, edges, expected in zip(FEATURES, model.edges, model.training_counts):
            actual = bin_counts(rfm[c].to_numpy(dtype=float), edges)
            psi = population_stability_index(expected, actual)
            metrics_psi.append(psi)
            drift_rows.append({
                "snapshot_date": snapshot, "model_version": model.version, "feature": c,
                "bins": len(edges) + 1, "customers": len(rfm),
                "psi": psi, "psi_band": psi_band(psi, *bands) if bands else None,
                "kl_divergence": kl_divergence(expected, actual),
                "js_distance": jensen_shannon_distance(expected, actual),
            })
        frozen = model.assign(rfm, attributes)
        refit = _new_model(rfm, snapshot, model.version + 1, "", n_clusters, seed, model,
                           bounds_at.get(snapshot, DEFAULT_RECENCY_BOUNDS), with_attributes)
        refit_labels = refit.assign(rfm, attributes)
        changed = float(np.mean(frozen != refit_labels))
        ari = float(adjusted_rand_score(frozen, refit_labels))
        max_psi = max(metrics_psi)
        level, why = recommend(
            {"max_feature_psi": max_psi, "assignment_changed_share": changed}, rules
        )
        action = "kept"
        if snapshot in asked or (auto_refit and level == "retrain"):
            action = "refit asked (var history_refit_dates)" if snapshot in asked else "refit recommended"
            model = replace(refit, reason=f"{action}: {why}")
            models.append(model)
        check_rows.append(_check_row(snapshot, model, len(rfm), max_psi, changed, ari, level, why, action))

    return ModelHistory(
        versions=_versions_frame(models),
        feature_drift=_typed(drift_rows, DRIFT_COLUMNS),
        checks=_typed(check_rows, CHECK_COLUMNS),
        attribute_centres=_attribute_centres_frame(models),
    )


#: Output columns and dtypes: typed even with no rows (one snapshot has nothing to compare), as an
#: untyped empty column cannot be written to the warehouse.
DRIFT_COLUMNS = {
    "snapshot_date": "datetime64[us]", "model_version": "int64", "feature": "str", "bins": "int64",
    "customers": "int64", "psi": "float64", "psi_band": "str", "kl_divergence": "float64",
    "js_distance": "float64",
}
CHECK_COLUMNS = {
    "snapshot_date": "datetime64[us]", "model_version": "int64", "customers": "int64",
    "max_feature_psi": "float64", "assignment_changed_share": "float64",
    "adjusted_rand_index": "float64", "recommendation": "str", "reason": "str", "action": "str",
}


def _typed(rows: list[dict[str, object]], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    return frame.astype(columns)


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Date columns as datetime64 (typed even when all null); the SQL models cast them to date."""
    return frame.assign(**{c: pd.to_datetime(frame[c]) for c in columns})


def _psi_bands(rules: pd.DataFrame) -> tuple[float, float] | None:
    """(moderate_at, significant_at) from the max_feature_psi rule; None (no bands) without one."""
    row = rules[rules["metric"] == "max_feature_psi"]
    if row.empty:
        return None
    return float(row["watch_at"].iloc[0]), float(row["retrain_at"].iloc[0])


def _check_row(
    snapshot: date, model: _Model, customers: int, max_psi: float, changed: float, ari: float,
    level: str, why: str, action: str,
) -> dict[str, object]:
    return {
        "snapshot_date": snapshot, "model_version": model.version, "customers": customers,
        "max_feature_psi": max_psi, "assignment_changed_share": changed,
        "adjusted_rand_index": ari, "recommendation": level, "reason": why, "action": action,
    }


def _versions_frame(models: list[_Model]) -> pd.DataFrame:
    rows = []
    for i, m in enumerate(models):
        valid_until = models[i + 1].trained_as_of if i + 1 < len(models) else None
        for j, cluster_id in enumerate(m.cluster_ids):
            row: dict[str, object] = {
                "model_version": m.version, "trained_as_of": m.trained_as_of,
                "valid_until": valid_until, "training_window_start": m.training_window_start,
                "training_customers": m.training_customers, "fit_reason": m.reason,
                "cluster_id": int(cluster_id), "segment_name": m.names[j],
                "segment_archetype": m.archetypes[j],
            }
            for f, feature in enumerate(FEATURES):
                row[f"{feature}_log_mean"] = float(m.mean[f])
                row[f"{feature}_log_scale"] = float(m.scale[f])
                row[f"{feature}_centroid"] = float(m.centres[j, f])
            rows.append(row)
    out = _dates(pd.DataFrame(rows), "trained_as_of", "valid_until", "training_window_start")
    return out.astype({"model_version": "int64", "cluster_id": "int64", "training_customers": "int64"})


#: One row per model version x cluster x attribute feature column (none without attributes).
ATTRIBUTE_CENTRE_COLUMNS = {
    "model_version": "int64", "cluster_id": "int64", "feature_column": "str", "attribute_name": "str",
    "attribute_category": "str", "attribute_fill_value": "float64", "attribute_centre": "float64",
    "attribute_scale": "float64", "attribute_factor": "float64", "attribute_centroid": "float64",
}


def _attribute_centres_frame(models: list[_Model]) -> pd.DataFrame:
    """The attribute dimensions of each model: the encoding's numbers (rfm_segments.clustering.
    AttributeDimension) and each cluster's centroid in that dimension."""
    rows = [
        {"model_version": m.version, "cluster_id": int(cluster_id), "feature_column": d.feature_column,
         "attribute_name": d.attribute_name, "attribute_category": d.category, "attribute_fill_value": d.fill_value,
         "attribute_centre": d.centre, "attribute_scale": d.scale, "attribute_factor": d.factor,
         "attribute_centroid": float(m.centres[j, len(FEATURES) + i])}
        for m in models if m.encoding is not None
        for j, cluster_id in enumerate(m.cluster_ids)
        for i, d in enumerate(m.encoding.dimensions)
    ]
    frame = pd.DataFrame(rows, columns=list(ATTRIBUTE_CENTRE_COLUMNS))
    return frame.astype(ATTRIBUTE_CENTRE_COLUMNS)
