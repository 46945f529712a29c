"""Glue for the dbt Python models of the history folder: reads their inputs and vars, calls
`rfm_segments.drift.model_history`. The three models each return one of its tables; the history
is deterministic (seeded), so they agree."""
from __future__ import annotations

from typing import Any

from datetime import date

from rfm_segments.drift import ModelHistory, model_history
from rfm_segments.naming import RecencyBounds

NULLS = (None, "", "None", "none", "null")


def _dates(value: Any) -> list[str]:
    if value in NULLS:
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
) -> ModelHistory:
    """Relations and config values as the model file passes them (dbt finds refs and config
    keys by reading the model file itself, so they cannot be looked up here)."""
    (chosen,) = k_evaluation.filter("is_chosen").project("k").fetchall()
    rfm = snapshot_rfm.project(
        "snapshot_date, customer_id, first_purchase_date, recency_days, frequency, monetary"
    ).df()
    return model_history(
        rfm,
        n_clusters=int(chosen[0]),
        rules=retraining_rules.df(),
        seed=int(cluster_seed),
        training_date=None if training_date in NULLS else training_date,
        refit_dates=_dates(refit_dates),
        auto_refit=str(auto_refit).lower() in ("true", "1", "yes"),
        min_training_customers=int(min_training_customers),
        recency_bounds=recency_bounds_by_snapshot(recency_words),
    )
