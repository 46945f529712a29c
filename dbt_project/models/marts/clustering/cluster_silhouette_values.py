"""Silhouette of each customer in a seeded sample: the per-cluster silhouette plot of the report."""
from rfm_segments.clustering_step import served_cluster_frames
from rfm_segments.stability import silhouette_values


def model(dbt, session):
    dbt.config(materialized="table")
    rfm, labels = served_cluster_frames(dbt.ref("customer_rfm"), dbt.ref("int_customer_served_clusters"))
    return silhouette_values(
        rfm,
        labels,
        sample_size=int(dbt.config.get("silhouette_plot_sample_size")),
        seed=int(dbt.config.get("cluster_seed")),
    )
