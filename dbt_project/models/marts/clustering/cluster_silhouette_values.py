"""Silhouette of each customer in a seeded sample: the per-cluster silhouette plot of the report."""
from rfm_segments.stability import silhouette_values


def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("customer_rfm").project("customer_id, recency_days, frequency, monetary").df()
    labels = dbt.ref("int_customer_served_clusters").project("customer_id, cluster_id").df()
    return silhouette_values(
        rfm,
        labels,
        sample_size=int(dbt.config.get("silhouette_plot_sample_size")),
        seed=int(dbt.config.get("cluster_seed")),
    )
