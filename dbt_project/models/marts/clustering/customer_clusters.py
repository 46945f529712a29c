"""Fresh K-Means fit on today's customers with the chosen k: the candidate a retrain would give.

Today's segment in the marts is the served model's (int_served_customer_clusters); this fit is
shown beside it as candidate_cluster_id / candidate_segment_name.
"""
from rfm_segments.clustering import fit_clusters
from rfm_segments.history_dbt import recency_bounds_by_snapshot


def model(dbt, session):
    dbt.config(materialized="table")
    (chosen,) = dbt.ref("cluster_k_evaluation").filter("is_chosen").project("k").fetchall()
    (as_of,) = dbt.ref("int_rfm_as_of_date").project("as_of_date").fetchall()
    bounds = recency_bounds_by_snapshot(dbt.ref("int_snapshot_recency_words"))
    rfm = dbt.ref("customer_rfm").project("customer_id, recency_days, frequency, monetary").df()
    return fit_clusters(
        rfm,
        n_clusters=int(chosen[0]),
        seed=int(dbt.config.get("cluster_seed")),
        recency_bounds=bounds[as_of[0]],
    )
