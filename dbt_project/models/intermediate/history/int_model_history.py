"""The model history, replayed once per build (rfm_segments.drift.model_history): K-Means fitted at
the training snapshot, every later snapshot scored, drift measured, refits where asked or
recommended. One long table; its `record` column says which typed model selects a row
(int_cluster_model_versions, int_cluster_model_attribute_centres, model_retraining_checks,
segment_feature_drift). With var cluster_on_attributes the models cluster on behaviour + the
customer attributes, as the fresh fit does."""
from rfm_segments.history_dbt import history_from_dbt


def model(dbt, session):
    dbt.config(materialized="table")
    return history_from_dbt(
        dbt.ref("int_cluster_k_evaluation"),
        dbt.ref("int_snapshot_customer_rfm"),
        dbt.ref("retraining_rules"),
        dbt.ref("int_snapshot_recency_words"),
        cluster_seed=dbt.config.get("cluster_seed"),
        training_date=dbt.config.get("history_training_date"),
        refit_dates=dbt.config.get("history_refit_dates"),
        auto_refit=dbt.config.get("history_auto_refit"),
        min_training_customers=dbt.config.get("history_min_training_customers"),
        attributes=dbt.ref("int_customer_attributes"),  # read only when var cluster_on_attributes is on
        # dbt reads each key from a literal dbt.config.get call (keys: clustering_step.ATTRIBUTE_CONFIG)
        attribute_config={
            "cluster_on_attributes": dbt.config.get("cluster_on_attributes"),
            "attribute_cluster_weight": dbt.config.get("attribute_cluster_weight"),
        },
    )
