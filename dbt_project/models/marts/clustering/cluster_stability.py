"""Bootstrap stability of each K-Means cluster (Hennig's clusterboot); one row per cluster."""
from rfm_segments.clustering_step import served_cluster_frames
from rfm_segments.stability import cluster_stability


def model(dbt, session):
    dbt.config(materialized="table")
    rfm, labels = served_cluster_frames(dbt.ref("customer_rfm"), dbt.ref("int_customer_served_clusters"))
    return cluster_stability(
        rfm,
        labels,
        n_resamples=int(dbt.config.get("stability_resamples")),
        seed=int(dbt.config.get("cluster_seed")),
        sample_size=int(dbt.config.get("stability_sample_size")),
    )
