"""Fresh K-Means fit on today's customers with the chosen k: the candidate a retrain would give.

Today's segment in the marts is the served model's (int_served_customer_clusters); this fit is
shown beside it as candidate_cluster_id / candidate_segment_name. The fit is
rfm_segments.clustering_step.customer_clusters, which Spark's clustering step calls too; on
behaviour + customer attributes when var cluster_on_attributes is on.
"""
from rfm_segments.clustering_step import ATTRIBUTE_COLUMNS, RFM_COLUMNS, chosen_k, clusters_on_attributes, customer_clusters
from rfm_segments.history_dbt import recency_bounds_by_snapshot


def model(dbt, session):
    dbt.config(materialized="table")
    evaluation = dbt.ref("cluster_k_evaluation").project("k, is_chosen").df()
    (as_of,) = dbt.ref("int_rfm_as_of_date").project("as_of_date").fetchall()
    bounds = recency_bounds_by_snapshot(dbt.ref("int_snapshot_recency_words"))
    rfm = dbt.ref("customer_rfm").project(", ".join(RFM_COLUMNS)).df()
    # dbt reads each key from a literal dbt.config.get call (keys: clustering_step.CUSTOMER_CLUSTERS_CONFIG)
    config = {
        "cluster_seed": dbt.config.get("cluster_seed"),
        "cluster_on_attributes": dbt.config.get("cluster_on_attributes"),
        "attribute_cluster_weight": dbt.config.get("attribute_cluster_weight"),
    }
    attributes = dbt.ref("int_customer_attributes")  # read only when var cluster_on_attributes is on
    attributes = attributes.project(", ".join(ATTRIBUTE_COLUMNS)).df() if clusters_on_attributes(config) else None
    return customer_clusters(rfm, chosen_k(evaluation), bounds[as_of[0]], config, attributes)
