"""The clustering step with its inputs and outputs, one code path for both engines.

The dbt Python models `int_cluster_k_evaluation` and `customer_clusters` call these functions:
dbt runs them on DuckDB; on Spark (which runs dbt Python models only on Databricks/Dataproc) the
same model files run as steps between dbt invocations (rfm_segments.python_model_step). Inputs
are at most one row per customer (per snapshot), as pandas frames; `config` holds the models'
dbt config (vars rendered), as `dbt.config.get` gives it (from the manifest, on Spark).

With var cluster_on_attributes (off by default) the same functions cluster on behaviour + the
customer attributes (intermediate.int_customer_attributes, encoded by
rfm_segments.clustering.encode_attributes, weighted by var attribute_cluster_weight): the k
evidence, its stability and backtest and the fresh fit then see the widened features. Off, the
attributes are not read and every output is what it was without the option.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

import pandas as pd

from rfm_segments.clustering import choose_k, encode_attributes, evaluate_k, fit_clusters, mark_chosen
from rfm_segments.dbt_values import is_true, optional_int
from rfm_segments.naming import RecencyBounds
from rfm_segments.stability import add_k_evidence

#: The RFM features the step reads (int_customer_rfm = marts.customer_rfm's; one row per customer).
RFM_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary"]
#: What it reads from intermediate.int_snapshot_next_period_spend at the latest complete snapshot.
BACKTEST_COLUMNS = [*RFM_COLUMNS, "next_period_spend"]
#: What it reads from intermediate.int_customer_attributes when var cluster_on_attributes is on.
ATTRIBUTE_COLUMNS = ["customer_id", "attribute_name", "attribute_type", "value_number", "attribute_value"]
#: The dbt config keys each model's step reads (vars rendered into _clustering__models.yml).
ATTRIBUTE_CONFIG = ("cluster_on_attributes", "attribute_cluster_weight")
K_EVALUATION_CONFIG = ("k_min", "k_max", "n_clusters", "cluster_seed", "silhouette_sample_size",
                       "k_stability_resamples", "k_stability_sample_size", *ATTRIBUTE_CONFIG)
CUSTOMER_CLUSTERS_CONFIG = ("cluster_seed", *ATTRIBUTE_CONFIG)
#: clustering.cluster_attribute_features: what each attribute feature encodes (empty when off).
ATTRIBUTE_FEATURE_COLUMNS = ["feature_column", "attribute_name", "category", "missing_customers", "weight"]


def clusters_on_attributes(config: Mapping[str, Any]) -> bool:
    """Var cluster_on_attributes as the models' config holds it (False when absent)."""
    return is_true(config.get("cluster_on_attributes"))


def with_attributes(frame: pd.DataFrame, attributes: pd.DataFrame | None, config: Mapping[str, Any]) -> pd.DataFrame:
    """`frame` (one row per customer) with the encoded attribute features appended when var
    cluster_on_attributes is on; the same frame, untouched, when it is off."""
    if not clusters_on_attributes(config):
        return frame
    features, _ = encode_attributes(frame["customer_id"], attributes, weight=float(config["attribute_cluster_weight"]))
    return frame.assign(**{column: features[column].to_numpy() for column in features.columns if column != "customer_id"})


def attribute_features(rfm: pd.DataFrame, attributes: pd.DataFrame | None, config: Mapping[str, Any]) -> pd.DataFrame:
    """clustering.cluster_attribute_features: per feature column the attribute (and the category
    of a one-hot column) it encodes, the attribute's customers without a value (a numeric one gets the median, a
    categorical one no category) and the weight; an attribute without any value has a row without
    a feature column. No rows when var cluster_on_attributes is off."""
    rows: list[dict[str, Any]] = []
    if clusters_on_attributes(config):
        rows = _attribute_feature_rows(rfm, attributes, config)
    types = {"missing_customers": "int64", "weight": "float64"}  # text columns: object, so that None stays None
    return pd.DataFrame({column: pd.Series([row[column] for row in rows], dtype=types.get(column, object))
                         for column in ATTRIBUTE_FEATURE_COLUMNS})


def _attribute_feature_rows(rfm: pd.DataFrame, attributes: pd.DataFrame | None, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    _, encoding = encode_attributes(rfm["customer_id"], attributes, weight=float(config["attribute_cluster_weight"]))
    rows = [{"feature_column": column, "attribute_name": name, "category": category,
             "missing_customers": encoding.missing[name], "weight": encoding.weight}
            for column, (name, category) in encoding.sources.items()]
    encoded = {name for name, _ in encoding.sources.values()}
    rows += [{"feature_column": None, "attribute_name": name, "category": None, "missing_customers": count,
              "weight": encoding.weight} for name, count in encoding.missing.items() if name not in encoded]
    return rows


def k_evaluation(rfm: pd.DataFrame, backtest: pd.DataFrame | None, config: Mapping[str, Any],
                 attributes: pd.DataFrame | None = None) -> pd.DataFrame:
    """intermediate.int_cluster_k_evaluation (clustering.cluster_k_evaluation): the evidence per k and the k chosen (or var n_clusters).
    `attributes` (int_customer_attributes) widens the features when var cluster_on_attributes is on;
    the backtest's customers get their attributes of today (attributes have no history)."""
    rfm = with_attributes(rfm, attributes, config)
    if backtest is not None:
        backtest = with_attributes(backtest, attributes, config)
    k_min, k_max = int(config["k_min"]), int(config["k_max"])
    seed = int(config["cluster_seed"])
    override = optional_int(config.get("n_clusters"))
    if override is not None:  # evaluate the user's k too, so its evidence is on record
        k_min, k_max = min(k_min, override), max(k_max, override)
    evaluation = evaluate_k(rfm, k_min=k_min, k_max=k_max, seed=seed,
                            silhouette_sample_size=int(config["silhouette_sample_size"]))
    evaluation = add_k_evidence(evaluation, rfm, backtest=backtest,
                                n_resamples=int(config["k_stability_resamples"]), seed=seed,
                                sample_size=int(config["k_stability_sample_size"]))
    if override is not None:
        k, reason = override, f"set by var n_clusters={override}"
    else:
        k, reason = choose_k(evaluation)
    return mark_chosen(evaluation, k, reason)


def chosen_k(evaluation: pd.DataFrame) -> int:
    return int(evaluation.loc[evaluation["is_chosen"].astype(bool), "k"].iloc[0])


def recency_bounds_from_rows(rows: pd.DataFrame) -> dict[date, RecencyBounds]:
    """int_snapshot_recency_words rows (snapshot_date, recency_word, up_to_days) as the day
    bounds of each snapshot."""
    return {
        pd.Timestamp(snapshot).date(): RecencyBounds.from_words(
            list(zip(group["recency_word"], group["up_to_days"].astype(float)))
        )
        for snapshot, group in rows.groupby("snapshot_date", sort=True)
    }


def customer_clusters(rfm: pd.DataFrame, k: int, recency_bounds: RecencyBounds,
                      config: Mapping[str, Any], attributes: pd.DataFrame | None = None) -> pd.DataFrame:
    """clustering.customer_clusters: today's fresh fit with the chosen k (on behaviour +
    `attributes` when var cluster_on_attributes is on; named by behaviour either way)."""
    return fit_clusters(with_attributes(rfm, attributes, config), n_clusters=k, seed=int(config["cluster_seed"]),
                        recency_bounds=recency_bounds)


def served_cluster_frames(rfm: Any, served_clusters: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The inputs of the served clusters' evidence (clustering.cluster_stability and
    cluster_silhouette_values): customer_rfm and int_customer_served_clusters, relations as the
    dbt Python model passes them, as frames of RFM_COLUMNS and (customer_id, cluster_id)."""
    return rfm.project(", ".join(RFM_COLUMNS)).df(), served_clusters.project("customer_id, cluster_id").df()
