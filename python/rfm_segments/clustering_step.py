"""The clustering step with its inputs and outputs, one code path for both engines.

The dbt Python models `int_cluster_k_evaluation` and `customer_clusters` call these functions:
dbt runs them on DuckDB; on Spark (which runs dbt Python models only on Databricks/Dataproc) the
same model files run as steps between dbt invocations (rfm_segments.python_model_step). Inputs
are at most one row per customer (per snapshot), as pandas frames; `config` holds the models'
dbt config (vars rendered), as `dbt.config.get` gives it (from the manifest, on Spark).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

import pandas as pd

from rfm_segments.clustering import choose_k, evaluate_k, fit_clusters, mark_chosen
from rfm_segments.dbt_values import optional_int
from rfm_segments.naming import RecencyBounds
from rfm_segments.stability import add_k_evidence

#: The RFM features the step reads (int_customer_rfm = marts.customer_rfm's; one row per customer).
RFM_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary"]
#: What it reads from intermediate.int_snapshot_next_period_spend at the latest complete snapshot.
BACKTEST_COLUMNS = [*RFM_COLUMNS, "next_period_spend"]
#: The dbt config keys each model's step reads (vars rendered into _clustering__models.yml).
K_EVALUATION_CONFIG = ("k_min", "k_max", "n_clusters", "cluster_seed", "silhouette_sample_size",
                       "k_stability_resamples", "k_stability_sample_size")
CUSTOMER_CLUSTERS_CONFIG = ("cluster_seed",)


def k_evaluation(rfm: pd.DataFrame, backtest: pd.DataFrame | None, config: Mapping[str, Any]) -> pd.DataFrame:
    """intermediate.int_cluster_k_evaluation (clustering.cluster_k_evaluation): the evidence per k and the k chosen (or var n_clusters)."""
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
                      config: Mapping[str, Any]) -> pd.DataFrame:
    """clustering.customer_clusters: today's fresh fit with the chosen k."""
    return fit_clusters(rfm, n_clusters=k, seed=int(config["cluster_seed"]), recency_bounds=recency_bounds)
