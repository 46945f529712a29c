"""Final K-Means fit on all customers with the chosen k: one cluster label per customer."""
from rfm_segments.clustering import fit_clusters


def model(dbt, session):
    dbt.config(materialized="table")
    (chosen,) = dbt.ref("cluster_k_evaluation").filter("is_chosen").project("k").fetchall()
    rfm = dbt.ref("customer_rfm").project("customer_id, recency_days, frequency, monetary").df()
    return fit_clusters(rfm, n_clusters=int(chosen[0]), seed=int(dbt.config.get("cluster_seed")))
