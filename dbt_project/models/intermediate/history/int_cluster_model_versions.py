"""The stored K-Means models over time: scaler, centroids in scaled space, names, training window."""
from rfm_segments.history_dbt import history_from_dbt


def model(dbt, session):
    dbt.config(materialized="table")
    history = history_from_dbt(
        dbt.ref("cluster_k_evaluation"),
        dbt.ref("int_snapshot_customer_rfm"),
        dbt.ref("retraining_rules"),
        dbt.ref("int_snapshot_recency_words"),
        cluster_seed=dbt.config.get("cluster_seed"),
        training_date=dbt.config.get("history_training_date"),
        refit_dates=dbt.config.get("history_refit_dates"),
        auto_refit=dbt.config.get("history_auto_refit"),
        min_training_customers=dbt.config.get("history_min_training_customers"),
    )
    return history.versions
