"""Glue for the dbt Python model int_model_history: reads its inputs and vars, replays the model
history once (`rfm_segments.drift.model_history`) and returns it as one long table
(`rfm_segments.drift.history_long_table`) that typed SQL models select from."""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

import pandas as pd

from rfm_segments.dbt_values import is_true, is_unset, optional
from rfm_segments.drift import history_long_table, model_history
from rfm_segments.naming import RecencyBounds


def _dates(value: Any) -> list[str]:
    if is_unset(value):
        return []
    if isinstance(value, str):
        return [d.strip() for d in value.strip("[]").replace("'", "").split(",") if d.strip()]
    return [str(d) for d in value]


def recency_bounds_by_snapshot(recency_words: Any) -> dict[date, RecencyBounds]:
    """int_snapshot_recency_words (a relation) as the day bounds of each snapshot."""
    from rfm_segments.clustering_step import recency_bounds_from_rows

    return recency_bounds_from_rows(recency_words.project("snapshot_date, recency_word, up_to_days").df())


def history_from_dbt(
    k_evaluation: Any,
    snapshot_rfm: Any,
    retraining_rules: Any,
    recency_words: Any,
    cluster_seed: Any,
    training_date: Any,
    refit_dates: Any,
    auto_refit: Any,
    min_training_customers: Any,
    attributes: Any = None,
    attribute_config: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The model history as one long table. Relations and config values as the model file passes
    them (dbt finds refs and config keys by reading the model file itself, so they cannot be
    looked up here). `attributes` (int_customer_attributes) is read only when var
    cluster_on_attributes is on in `attribute_config` (keys clustering_step.ATTRIBUTE_CONFIG):
    then the models cluster on behaviour + attributes."""
    from rfm_segments.clustering_step import ATTRIBUTE_COLUMNS, clusters_on_attributes

    config = attribute_config or {}
    on_attributes = attributes is not None and clusters_on_attributes(config)
    (chosen,) = k_evaluation.filter("is_chosen").project("k").fetchall()
    rfm = snapshot_rfm.project(
        "snapshot_date, customer_id, first_purchase_date, recency_days, frequency, monetary"
    ).df()
    history = model_history(
        rfm,
        n_clusters=int(chosen[0]),
        rules=retraining_rules.df(),
        seed=int(cluster_seed),
        training_date=optional(training_date),
        refit_dates=_dates(refit_dates),
        auto_refit=is_true(auto_refit),
        min_training_customers=int(min_training_customers),
        recency_bounds=recency_bounds_by_snapshot(recency_words),
        attributes=attributes.project(", ".join(ATTRIBUTE_COLUMNS)).df() if on_attributes else None,
        attribute_weight=float(config["attribute_cluster_weight"]) if on_attributes else None,
    )
    return history_long_table(history)
