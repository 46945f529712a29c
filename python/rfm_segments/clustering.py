"""K-Means segmentation of per-customer RFM features.

The dbt Python models call, in order::

    evaluation = evaluate_k(rfm, k_min=..., k_max=..., seed=..., silhouette_sample_size=...)  # one row per k
    k, reason = choose_k(evaluation)                           # or the user's n_clusters
    labels = fit_clusters(rfm, n_clusters=k, seed=...)         # one row per customer
    profiles = cluster_centroids(rfm, labels)                  # one row per cluster

The parameters are dbt vars (dbt_project.yml); outside dbt, rfm_segments.project_vars reads them.

Everything here is a pure function of its arguments: no I/O, no global random state.
Determinism: input rows are sorted by `customer_id` before any fitting or sampling, so the same
customers in any row order give identical numbers, ids and names; results come back in the
caller's row order.
"""

from __future__ import annotations

import functools
import operator
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from sklearn import config_context
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from rfm_segments.naming import (
    DEFAULT_RECENCY_BOUNDS,
    SEGMENT_ARCHETYPES,
    RecencyBounds,
    archetypes_for_centres,
    unique_names,
)

__all__ = [
    "FEATURES",
    "SEGMENT_ARCHETYPES",
    "SILHOUETTE_MARGIN",
    "STABLE_JACCARD",
    "ClusteringError",
    "prepare_features",
    "evaluate_k",
    "choose_k",
    "mark_chosen",
    "fit_ordered_kmeans",
    "fit_clusters",
    "cluster_centroids",
    "centre_recency_days",
    "ATTRIBUTE_PREFIX",
    "AttributeDimension",
    "AttributeEncoding",
    "encode_attributes",
    "fit_attribute_encoding",
    "apply_attribute_encoding",
]

FEATURES: tuple[str, str, str] = ("recency_days", "frequency", "monetary")
REQUIRED_COLUMNS: tuple[str, ...] = ("customer_id", *FEATURES)
SOURCE = "customer_rfm"  # how error messages name the input table

#: K-Means restarts; fixed (not "auto") so the result never depends on a library default.
N_INIT = 10
#: Rows the k sweep (and the final fit's restarts) run on; see `fit_ordered_kmeans`.
FIT_SAMPLE_SIZE = 50_000
#: How much higher a silhouette must be to overrule the elbow in `choose_k`.
SILHOUETTE_MARGIN = 0.10
#: Mean bootstrap Jaccard at or above which a cluster counts as stable (Hennig's "pattern").
STABLE_JACCARD = 0.6
#: Threads for K-Means (OpenMP) and distances (BLAS). One, measured on 2 cores: about as fast
#: as two on an idle machine, 2-5x faster when anything else runs (dbt threads, DuckDB), as the
#: OpenMP workers wait on a busy core; and the float sums no longer depend on the core count.
#: The k sweep uses the cores instead by scoring one k per thread.
N_THREADS = 1

EVALUATION_COLUMNS: tuple[str, ...] = (
    "k",
    "inertia",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "silhouette_sample_size",
    "fit_sample_size",
    "n_customers",
    "note",
)


class ClusteringError(ValueError):
    """The input or the request cannot be clustered; the message says why in one line."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _limit_threads(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `func` with at most N_THREADS OpenMP/BLAS threads (restored afterwards)."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with threadpool_limits(limits=N_THREADS):
            return func(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------- features


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _validate(rfm: pd.DataFrame) -> None:
    """Raise ClusteringError naming the first problem that would make the fit meaningless."""
    if len(rfm) == 0:
        raise ClusteringError(f"no customers to cluster: {SOURCE} has 0 rows")
    missing = [c for c in REQUIRED_COLUMNS if c not in rfm.columns]
    if missing:
        raise ClusteringError(f"{SOURCE} is missing column(s): {', '.join(missing)}")
    for column in REQUIRED_COLUMNS:
        n_null = int(rfm[column].isna().sum())
        if n_null:
            raise ClusteringError(f"{SOURCE} has {_rows(n_null)} with null {column}")
    n_dup = int(rfm["customer_id"].duplicated().sum())
    if n_dup:
        raise ClusteringError(
            f"{SOURCE} has {n_dup} duplicated customer_id value(s); expected one row per customer"
        )
    for column in FEATURES:
        values = _as_float(rfm[column], column)
        n_bad = int((~np.isfinite(values)).sum())
        if n_bad:
            raise ClusteringError(f"{SOURCE} has {_rows(n_bad)} with infinite {column}")
        n_neg = int((values < 0).sum())
        if n_neg:
            raise ClusteringError(f"{SOURCE} has {_rows(n_neg)} with negative {column}")


def _as_float(values: pd.Series, column: str) -> NDArray[np.float64]:
    """Float view of a numeric column (DuckDB DECIMAL arrives as float or Decimal objects)."""
    try:
        return values.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ClusteringError(
            f"{SOURCE} column {column} is not numeric (dtype {values.dtype})"
        ) from None


def _features(rfm: pd.DataFrame) -> tuple[NDArray[np.float64], StandardScaler]:
    # log1p: RFM features are heavily right-skewed; unlogged, a few big spenders would own
    # whole clusters. Scaling: otherwise recency (hundreds of days) would dominate distance.
    logs = np.column_stack([np.log1p(_as_float(rfm[c], c)) for c in FEATURES])
    scaler = StandardScaler().fit(logs)
    extra = attribute_columns(rfm)  # already encoded and scaled by encode_attributes
    if not extra:
        return scaler.transform(logs), scaler
    return np.column_stack([scaler.transform(logs), rfm[extra].to_numpy(dtype=np.float64)]), scaler


# ---------------------------------------------------------------- customer attributes

#: Columns of an rfm frame that `_features` appends to the behaviour features.
ATTRIBUTE_PREFIX = "attribute__"


def attribute_columns(rfm: pd.DataFrame) -> list[str]:
    return [c for c in rfm.columns if str(c).startswith(ATTRIBUTE_PREFIX)]


@dataclass(frozen=True)
class AttributeDimension:
    """One attribute feature column and the numbers that make it from a customer's value:
    ((value, or `fill_value` when missing) - `centre`) / `scale` * `factor` for a numeric
    attribute; ((1 if the category is `category` else 0) - `centre`) / `scale` * `factor` for a
    one-hot column. Fitted on the customers `encode_attributes` saw; a stored model applies them
    to other customers unchanged (apply_attribute_encoding here, the SQL scoring from the stored
    numbers)."""
    feature_column: str
    attribute_name: str
    category: str | None    # the one-hot column's category; None: numeric
    fill_value: float | None  # numeric: the median that replaces a missing value
    centre: float           # mean (of the filled values, or the category's share)
    scale: float            # standard deviation (1 for a constant column)
    factor: float           # the attribute weight, divided by sqrt(categories) for one-hot columns


@dataclass
class AttributeEncoding:
    """How `encode_attributes` turned the attributes into features."""
    features: dict[str, str]          # feature column -> what it encodes ('age', 'occupation=nurse')
    missing: dict[str, int]           # attribute -> customers without a value
    weight: float
    sources: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # column -> (attribute, category or None)
    dimensions: list[AttributeDimension] = field(default_factory=list)  # one per feature column, in order


def encode_attributes(customer_ids: pd.Series, attributes: pd.DataFrame, weight: float
                      ) -> tuple[pd.DataFrame, AttributeEncoding]:
    """Customer attributes as clustering features, one row per customer in `customer_ids`' order.

    `attributes` is long, as intermediate.int_customer_attributes: customer_id, attribute_name,
    attribute_type (numeric/categorical), value_number, attribute_value ('(missing)' when none).
    Numeric: the value, a missing one replaced by the attribute's median, standardised.
    Categorical: one-hot (a missing value is no category: all zeros), each indicator
    standardised and divided by sqrt(number of indicators), so that every attribute, whatever
    its number of categories, has total variance 1 like a numeric one. Then the whole block is
    scaled so that its total variance is `weight` times that of the 3 behaviour features
    (weight 1: behaviour and attributes count equally). Columns are ATTRIBUTE_PREFIX + a number;
    AttributeEncoding says what each encodes, how many values were missing per attribute and
    (`dimensions`) the fitted numbers, which `apply_attribute_encoding` applies to any customers.
    """
    encoding = fit_attribute_encoding(customer_ids, attributes, weight)
    return apply_attribute_encoding(customer_ids, attributes, encoding), encoding


def _attribute_values(ids: NDArray[np.str_], rows: pd.DataFrame) -> tuple[bool, pd.Series]:
    """(is numeric, each customer's value in `ids` order: value_number, or attribute_value with
    '(missing)' for none) of one attribute's rows."""
    rows = rows.set_index(rows["customer_id"].astype(str)).reindex(ids)
    if (rows["attribute_type"].dropna() == "numeric").any():
        return True, rows["value_number"].astype(np.float64)
    return False, rows["attribute_value"].fillna("(missing)").astype(str)


def fit_attribute_encoding(customer_ids: pd.Series, attributes: pd.DataFrame, weight: float) -> AttributeEncoding:
    """The encoding of `encode_attributes`, fitted on the customers in `customer_ids`."""
    if weight <= 0:
        raise ClusteringError(f"attribute weight must be positive, got {weight}")
    ids = customer_ids.astype(str).to_numpy()
    blocks: list[list[tuple[str, str | None, float | None, float, float, float]]] = []
    missing: dict[str, int] = {}
    for name, rows in attributes.groupby("attribute_name", sort=True):
        is_numeric, values = _attribute_values(ids, rows)
        if is_numeric:
            numbers = values.to_numpy(dtype=np.float64)
            absent = ~np.isfinite(numbers)
            missing[name] = int(absent.sum())
            if absent.all():
                continue
            fill = float(np.median(numbers[~absent]))
            filled = np.where(absent, fill, numbers)
            blocks.append([(str(name), None, fill, *_centre_and_scale(filled), 1.0)])
        else:
            absent = (values == "(missing)").to_numpy()
            missing[name] = int(absent.sum())
            categories = sorted(set(values[~absent]))
            if not categories:
                continue
            blocks.append([(str(name), c, None, *_centre_and_scale((values == c).to_numpy(dtype=np.float64)),
                            1.0 / np.sqrt(len(categories))) for c in categories])
    block_weight = np.sqrt(weight * len(FEATURES) / len(blocks)) if blocks else 1.0
    dimensions = [AttributeDimension(f"{ATTRIBUTE_PREFIX}{i}", name, category, fill, centre, scale,
                                     float(share * block_weight))
                  for i, (name, category, fill, centre, scale, share)
                  in enumerate(column for block in blocks for column in block)]
    return AttributeEncoding(
        features={d.feature_column: d.attribute_name if d.category is None else f"{d.attribute_name}={d.category}"
                  for d in dimensions},
        missing=missing, weight=weight,
        sources={d.feature_column: (d.attribute_name, d.category) for d in dimensions},
        dimensions=dimensions,
    )


def apply_attribute_encoding(customer_ids: pd.Series, attributes: pd.DataFrame, encoding: AttributeEncoding) -> pd.DataFrame:
    """customer_id and the encoding's feature columns for the customers in `customer_ids` (in
    that order), with the encoding's fitted numbers (a category it has not seen: no category)."""
    ids = customer_ids.astype(str).to_numpy()
    by_name = dict(iter(attributes.groupby("attribute_name", sort=True)))
    frame = pd.DataFrame({"customer_id": customer_ids.to_numpy()})
    values: dict[str, pd.Series] = {}
    for d in encoding.dimensions:
        if d.attribute_name not in values:  # an attribute these customers lack altogether: all missing
            values[d.attribute_name] = _attribute_values(ids, by_name.get(d.attribute_name, attributes.iloc[:0]))[1]
        value = values[d.attribute_name]
        if d.category is None:
            raw = pd.to_numeric(value, errors="coerce").to_numpy(dtype=np.float64)
            raw = np.where(np.isfinite(raw), raw, d.fill_value)
        else:
            raw = (value == d.category).to_numpy(dtype=np.float64)
        frame[d.feature_column] = (raw - d.centre) / d.scale * d.factor
    return frame


def _centre_and_scale(values: NDArray[np.float64]) -> tuple[float, float]:
    """Mean and standard deviation (1 for a constant column, which then becomes zeros)."""
    scale = float(values.std())
    return float(values.mean()), scale if scale > 0 else 1.0


def prepare_features(rfm: pd.DataFrame) -> tuple[NDArray[np.float64], StandardScaler]:
    """Validated model features: standardised log1p(recency_days, frequency, monetary).

    Returns the (n, 3) matrix in the input's row order and the fitted scaler, whose inverse
    plus expm1 maps cluster centres back to days, orders and money. Raises ClusteringError on
    no rows, missing columns, nulls, duplicated customer ids, infinite or negative values.
    """
    _validate(rfm)
    return _features(rfm)


def _sorted_features(rfm: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Features of the customers sorted by customer_id, and the sorting permutation.

    Sorting first makes fits and samples independent of the caller's row order, down to the
    floating-point summation order inside the scaler.
    """
    X, order, _ = _sorted_features_and_scaler(rfm)
    return X, order


def _sorted_features_and_scaler(
    rfm: pd.DataFrame,
) -> tuple[NDArray[np.float64], NDArray[np.intp], StandardScaler]:
    _validate(rfm)
    order = np.argsort(rfm["customer_id"].astype(str).to_numpy(), kind="stable")
    X, scaler = _features(rfm.iloc[order])
    return X, order, scaler


def centre_recency_days(centres: NDArray[np.float64], mean: NDArray[np.float64], scale: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each centre's recency back in days (expm1 of the unscaled log), for naming."""
    return np.expm1(centres[:, 0] * scale[0] + mean[0])


def _n_distinct(X: NDArray[np.float64]) -> int:
    """Number of distinct customers in feature space; ties (same R, F, M) count once."""
    return int(len(np.unique(X, axis=0)))


def _sample_rows(n: int, size: int, seed: int) -> NDArray[np.intp]:
    """Seeded sample of at most `size` row positions, in ascending order (all rows if n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


# -------------------------------------------------------------------------- choosing k


@_limit_threads
def evaluate_k(
    rfm: pd.DataFrame,
    *,
    k_min: int,
    k_max: int,
    seed: int,
    silhouette_sample_size: int,
    fit_sample_size: int = FIT_SAMPLE_SIZE,
) -> pd.DataFrame:
    """Fit K-Means for each k in k_min..k_max and score each fit; one row per k.

    Columns: k, inertia, silhouette, calinski_harabasz, davies_bouldin,
    silhouette_sample_size, fit_sample_size, n_customers, note.

    Why samples: the sweep fits on a seeded sample of at most `fit_sample_size` customers
    (the metrics barely move beyond a few ten thousand points, the run time does), and the
    silhouette, which is quadratic in the number of points, on a seeded sample of at most
    `silhouette_sample_size` of those. The sizes actually used are recorded per row.

    The range is clamped to k <= (distinct customers in the fit sample) - 1, where the
    silhouette is defined; if nothing is left, the table is a single k=1 row with NaN
    metrics and a note saying why (choose_k then returns 1: one segment for everybody).
    """
    if k_min < 2 or k_max < k_min:
        raise ClusteringError(f"need 2 <= k_min <= k_max, got k_min={k_min}, k_max={k_max}")
    if silhouette_sample_size < 2 or fit_sample_size < 2:
        raise ClusteringError("silhouette_sample_size and fit_sample_size must be at least 2")
    X, _ = _sorted_features(rfm)
    X_fit = X[_sample_rows(len(X), fit_sample_size, seed)]
    n_fit = len(X_fit)
    n_distinct = _n_distinct(X_fit)
    k_high = min(k_max, n_distinct - 1)
    where = "" if n_fit == len(X) else " in the fit sample"
    few = (
        f"only {n_distinct} distinct customer{'' if n_distinct == 1 else 's'}{where}: "
        f"silhouette needs k <= {n_distinct - 1}"
    )
    note = ""
    if k_high < k_min:
        note = f"{few}, which leaves no k in {k_min}..{k_max}"
    elif k_high < k_max:
        note = f"{few}, so k_max={k_max} was lowered to {k_high}"
    base = {"fit_sample_size": n_fit, "n_customers": len(X), "note": note}
    if k_high < k_min:
        return _evaluation_frame([{"k": 1, "silhouette_sample_size": 0, **base}])
    sil_size = min(silhouette_sample_size, n_fit)

    def score(k: int) -> dict[str, object]:
        model = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(X_fit)
        labels = model.labels_
        return {
            "k": k,
            "inertia": float(model.inertia_),
            "silhouette": _silhouette(X_fit, labels, sil_size, seed),
            "calinski_harabasz": float(calinski_harabasz_score(X_fit, labels)),
            "davies_bouldin": float(davies_bouldin_score(X_fit, labels)),
            "silhouette_sample_size": sil_size,
            **base,
        }

    return _evaluation_frame(for_each_k(score, range(k_min, k_high + 1)))


def for_each_k(work: Callable[[int], _R], ks: Iterable[int]) -> list[_R]:
    """[work(k) for k in ks], side by side, one k per core.

    Each k is independent and single-threaded (so deterministic); the numerical work releases
    the GIL, so threads suffice.
    """
    ks = list(ks)
    limited = _limit_threads(work)  # OpenMP's thread count is per thread: limit it in each worker
    return Parallel(n_jobs=max(1, min(os.cpu_count() or 1, len(ks))), backend="threading")(
        delayed(limited)(k) for k in ks
    )


#: Memory for the blocks of one silhouette computation's distances. scikit-learn's default block
#: is 1 GB, allocated per call (the k sweep scores two k at once); smaller blocks give the same
#: values no slower.
SILHOUETTE_WORKING_MEMORY_MB = 64


def silhouette_memory():
    """Context for scikit-learn's silhouette functions (thread-local: enter it in the worker)."""
    return config_context(working_memory=SILHOUETTE_WORKING_MEMORY_MB)


def _silhouette(X: NDArray[np.float64], labels: NDArray[np.int_], size: int, seed: int) -> float:
    try:
        with silhouette_memory():
            return float(
                silhouette_score(
                    X, labels, sample_size=size if size < len(X) else None, random_state=seed
                )
            )
    except ValueError:  # the sample caught a single cluster: undefined, not fatal
        return float("nan")


def _evaluation_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=list(EVALUATION_COLUMNS))
    floats = ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"]
    ints = ["k", "silhouette_sample_size", "fit_sample_size", "n_customers"]
    # "" rather than NULL notes: an all-NULL column has no type once written to DuckDB.
    return frame.astype({**dict.fromkeys(floats, "float64"), **dict.fromkeys(ints, "int64")})


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _knee(ks: NDArray[np.int_], inertia: NDArray[np.float64]) -> int | None:
    """k farthest below the chord from the first to the last point of the inertia curve.

    Both axes are scaled to [0, 1] first (Kneedle), so the answer does not depend on units.
    None when there is no interior point or the curve never sags below its chord.
    """
    if len(ks) < 3 or inertia[0] <= inertia[-1]:
        return None
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (inertia - inertia[-1]) / (inertia[0] - inertia[-1])
    gap = (1.0 - x) - y  # chord runs from (0, 1) to (1, 0)
    i = int(np.argmax(gap[1:-1])) + 1  # first maximum: ties go to the smaller k
    return int(ks[i]) if gap[i] > 1e-9 else None  # a straight line has no knee, rounding aside


def choose_k(evaluation: pd.DataFrame) -> tuple[int, str]:
    """Pick the number of clusters from an `evaluate_k` table; returns (k, reason in words).

    First the geometry (`_geometric_choice`), then, when the table has them (see
    rfm_segments.stability.add_k_evidence), the bootstrap stability and the backtest:

    - stability decides against an unstable pick: if the k chosen has a cluster whose mean
      bootstrap Jaccard is below STABLE_JACCARD (it does not reappear when refitted), the
      nearest k whose clusters are all stable is taken instead (the smaller on a tie); with no
      stable k the pick stands and the reason says so;
    - the backtest's explained share (eta squared of next-period log spend) is reported, not used:
      it almost always grows with k, so it cannot choose k alone.

    The reason names the evidence that decided.
    """
    k, reason = _geometric_choice(evaluation)
    if k < 2 or "stability_min_jaccard" not in evaluation.columns:
        return k, reason
    table = evaluation.set_index("k")
    jaccard = table["stability_min_jaccard"]

    def stable(candidate: int) -> bool:
        value = jaccard.get(candidate, np.nan)
        return bool(np.isfinite(value) and value >= STABLE_JACCARD - 1e-12)

    if k in jaccard.index and np.isfinite(jaccard[k]) and not stable(k):
        alternatives = sorted((abs(c - k), c) for c in jaccard.index if c >= 2 and stable(int(c)))
        if alternatives:
            new_k = int(alternatives[0][1])
            reason = (f"stability decided: k={k} ({reason}) has a cluster that does not reappear when "
                      f"refitted (min Jaccard {jaccard[k]:.2f} < {STABLE_JACCARD}); k={new_k} is the nearest "
                      f"k whose clusters are all stable (min Jaccard {jaccard[new_k]:.2f})")
            k = new_k
        else:
            reason += f"; no k has only stable clusters (min Jaccard {jaccard[k]:.2f} at k={k})"
    elif k in jaccard.index and np.isfinite(jaccard[k]):
        reason += f"; stable (min cluster Jaccard {jaccard[k]:.2f})"
    if "backtest_explained_share" in table.columns and np.isfinite(table["backtest_explained_share"].get(k, np.nan)):
        shares = table["backtest_explained_share"].dropna()
        best = int(shares.idxmax())
        reason += (f"; backtest: explains {shares[k]:.0%} of next-period spend"
                   + ("" if best == k else f" (k={best}: {shares[best]:.0%})"))
    return k, reason


def _geometric_choice(evaluation: pd.DataFrame) -> tuple[int, str]:
    """The elbow and silhouette rule of `choose_k`.

    Rule: find the knee of the inertia curve (the k farthest below the straight line from the
    first to the last evaluated k, both axes scaled to [0, 1]), then take the k with the best
    silhouette among the knee and its neighbours k-1 and k+1. The elbow is overruled only when
    the best silhouette anywhere beats that choice by at least SILHOUETTE_MARGIN (0.10);
    without a knee (fewer than three k, or no sag below the chord) the best silhouette wins.
    Ties go to the smaller k. Rows with k < 2 or a NaN inertia or silhouette never win; if no
    row is left, the answer is k=1 (one segment for everybody).
    """
    missing = [c for c in ("k", "inertia", "silhouette") if c not in evaluation.columns]
    if missing:
        raise ClusteringError(f"evaluation is missing column(s): {', '.join(missing)}")
    table = evaluation.sort_values("k", kind="stable")
    usable = table[
        (table["k"] >= 2) & np.isfinite(table["inertia"]) & np.isfinite(table["silhouette"])
    ]
    if usable.empty:
        notes = [n for n in table.get("note", pd.Series(dtype=str)).dropna() if str(n)]
        return 1, "no k >= 2 could be evaluated" + (f": {notes[0]}" if notes else "")
    ks = usable["k"].to_numpy(dtype=int)
    sil = usable["silhouette"].to_numpy(dtype=float)
    n = len(ks)
    best = int(np.argmax(sil))  # first maximum, ks ascending: ties go to the smaller k

    def rank(i: int) -> str:
        return _ordinal(1 + int((sil > sil[i]).sum()))

    knee = _knee(ks, usable["inertia"].to_numpy(dtype=float))
    if knee is None:
        why = (
            f"only {n} value{'' if n == 1 else 's'} of k, too few for a knee"
            if n < 3
            else "no knee in the inertia curve"
        )
        return int(ks[best]), f"{why}; best silhouette {sil[best]:.2f} at k={ks[best]}"
    near = np.flatnonzero(np.abs(ks - knee) <= 1)
    pick = int(near[np.argmax(sil[near])])
    if sil[best] - sil[pick] >= SILHOUETTE_MARGIN - 1e-12:  # 0.51 - 0.41 is 0.0999...
        return int(ks[best]), (
            f"silhouette {sil[best]:.2f} at k={ks[best]} is clearly the best of {n}, "
            f"{sil[best] - sil[pick]:.2f} above the best near the knee of inertia at k={knee}"
        )
    if ks[pick] == knee:
        return knee, (
            f"knee of inertia at k={knee}; silhouette {sil[pick]:.2f} ({rank(pick)} best of {n})"
        )
    return int(ks[pick]), (
        f"knee of inertia at k={knee}; k={ks[pick]} has the best silhouette within 1 of it, "
        f"{sil[pick]:.2f} ({rank(pick)} best of {n})"
    )


def mark_chosen(evaluation: pd.DataFrame, k: int, reason: str) -> pd.DataFrame:
    """Copy of `evaluation` with `is_chosen` (bool) and `choice_reason` ("" on other rows).

    Works for a user override too; a k outside the evaluated range marks no row.
    """
    out = evaluation.copy()
    out["is_chosen"] = out["k"].to_numpy() == k
    out["choice_reason"] = np.where(out["is_chosen"], reason, "")
    return out


# ----------------------------------------------------------------------- final fitting


def _value_order(centres: NDArray[np.float64]) -> NDArray[np.intp]:
    """Centre indices from most to least valuable.

    Value = mean of standardised (-log recency, log frequency, log monetary); ties broken by
    recency, then frequency, then monetary, so the order is total and repeatable.
    """
    r, f, m = centres[:, 0], centres[:, 1], centres[:, 2]
    score = (-r + f + m) / 3.0
    return np.lexsort((-m, -f, r, -score))  # last key sorts first


@_limit_threads
def fit_ordered_kmeans(
    X: NDArray[np.float64],
    n_clusters: int,
    seed: int,
    fit_sample_size: int = FIT_SAMPLE_SIZE,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """K-Means on feature rows X with clusters renumbered 1..k by value (1 = most valuable).

    Returns (labels in 1..k, centres in feature space, row i = cluster i+1). K-Means numbers
    clusters arbitrarily; ordering by value is what makes ids and names stable across
    rebuilds. For speed, the N_INIT restarts run on the same seeded sample of at most
    `fit_sample_size` rows that `evaluate_k` scored; the best of them is then refined by
    Lloyd iterations on all rows, so every customer shapes the final centres.
    The caller guarantees 1 <= n_clusters <= distinct rows of X; X's row order matters.
    """
    if n_clusters == 1:  # nothing to search: the centre is the mean
        return np.ones(len(X), dtype=np.int64), X.mean(axis=0, keepdims=True)
    X_fit = X[_sample_rows(len(X), fit_sample_size, seed)]
    if len(X_fit) < len(X) and _n_distinct(X_fit) < n_clusters:
        X_fit = X  # the sample missed rare points that the k clusters need: use everyone
    model = KMeans(n_clusters=n_clusters, n_init=N_INIT, random_state=seed).fit(X_fit)
    if len(X_fit) < len(X):
        model = KMeans(
            n_clusters=n_clusters, init=model.cluster_centers_, n_init=1, random_state=seed
        ).fit(X)
    order = _value_order(model.cluster_centers_)
    new_id = np.empty(n_clusters, dtype=np.int64)
    new_id[order] = np.arange(1, n_clusters + 1)
    return new_id[model.labels_], model.cluster_centers_[order]


@_limit_threads
def fit_clusters(
    rfm: pd.DataFrame,
    n_clusters: int,
    *,
    seed: int,
    fit_sample_size: int = FIT_SAMPLE_SIZE,
    recency_bounds: RecencyBounds = DEFAULT_RECENCY_BOUNDS,
) -> pd.DataFrame:
    """Segment every customer: customer_id, cluster_id (1 = most valuable), segment_name,
    segment_archetype; one row per input row, in the input's order.

    `segment_archetype` is always one of SEGMENT_ARCHETYPES (see rfm_segments.naming), its
    recency word from `recency_bounds` (days); `segment_name` is the archetype, with what sets
    it apart for the less valuable clusters when several share one. Raises ClusteringError if there are fewer distinct
    customers than n_clusters (e.g. all customers identical and n_clusters > 1).
    """
    try:
        k = operator.index(n_clusters)  # ints and numpy ints; not floats, strings or None
    except TypeError:
        k = 0
    if k < 1 or isinstance(n_clusters, bool):
        raise ClusteringError(f"n_clusters must be a positive integer, got {n_clusters!r}")
    n_clusters = k
    X, order, scaler = _sorted_features_and_scaler(rfm)
    n_distinct = _n_distinct(X)
    if n_clusters > n_distinct:
        raise ClusteringError(
            f"cannot make {n_clusters} clusters: {SOURCE} has only {n_distinct} distinct "
            f"customer(s) by (recency_days, frequency, monetary) among {len(X)}; "
            f"ask for at most {n_distinct}"
        )
    sorted_labels, centres = fit_ordered_kmeans(X, n_clusters, seed, fit_sample_size)
    archetypes = archetypes_for_centres(
        centres, X, centre_recency_days(centres, scaler.mean_, scaler.scale_), recency_bounds
    )
    names = unique_names(archetypes, centres[:, :len(FEATURES)])  # named by behaviour only
    cluster_id = np.empty(len(X), dtype=np.int64)
    cluster_id[order] = sorted_labels
    return pd.DataFrame(
        {
            "customer_id": rfm["customer_id"].to_numpy(),
            "cluster_id": cluster_id,
            "segment_name": np.asarray(names, dtype=object)[cluster_id - 1],
            "segment_archetype": np.asarray(archetypes, dtype=object)[cluster_id - 1],
        }
    ).astype({"segment_name": "str", "segment_archetype": "str"})


def cluster_centroids(rfm: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per cluster: cluster_id, segment_name, segment_archetype, n_customers, and the centre
    in original units (recency_days, frequency, monetary), one row per cluster by cluster_id.

    The centre is expm1 of the mean log1p of the members, i.e. the K-Means centre mapped back
    from feature space: a "typical member" (geometric-mean-like), not dragged by outliers the
    way an arithmetic mean of spend would be. `labels` is `fit_clusters` output for `rfm`.
    """
    _validate(rfm)
    label_columns = ["customer_id", "cluster_id", "segment_name", "segment_archetype"]
    missing = [c for c in label_columns if c not in labels.columns]
    if missing:
        raise ClusteringError(f"labels are missing column(s): {', '.join(missing)}")
    logs = pd.DataFrame(
        {c: np.log1p(_as_float(rfm[c], c)) for c in FEATURES}
    ).assign(customer_id=rfm["customer_id"].to_numpy())
    same_rows = len(labels) == len(rfm) and bool(
        (labels["customer_id"].to_numpy() == rfm["customer_id"].to_numpy()).all()
    )
    if same_rows:  # the usual case, fit_clusters output as is: skip the costly join
        merged = logs.assign(**{c: labels[c].to_numpy() for c in label_columns[1:]})
    else:
        merged = logs.merge(labels[label_columns], on="customer_id", how="left", validate="1:1")
    n_unlabelled = int(merged["cluster_id"].isna().sum())
    if n_unlabelled:
        raise ClusteringError(f"labels have no cluster for {n_unlabelled} customer(s) of {SOURCE}")
    grouped = merged.groupby(["cluster_id", "segment_name", "segment_archetype"], sort=True)
    centres = np.expm1(grouped[list(FEATURES)].mean())
    out = centres.assign(n_customers=grouped.size()).reset_index()
    out = out.astype({"cluster_id": "int64", "n_customers": "int64"})
    return out[
        ["cluster_id", "segment_name", "segment_archetype", "n_customers", *FEATURES]
    ]
