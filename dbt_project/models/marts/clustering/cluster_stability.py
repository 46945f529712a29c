"""Bootstrap stability of each K-Means cluster (Hennig's clusterboot); one row per cluster."""
from rfm_segments.stability import cluster_stability


def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("customer_rfm").project("customer_id, recency_days, frequency, monetary").df()
    labels = dbt.ref("int_customer_served_clusters").project("customer_id, cluster_id").df()
    return cluster_stability(
        rfm,
        labels,
        n_resamples=int(dbt.config.get("stability_resamples")),
        seed=int(dbt.config.get("cluster_seed")),
        sample_size=int(dbt.config.get("stability_sample_size")),
    )
