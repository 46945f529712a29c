"""K-Means evidence: inertia and quality scores for every k evaluated, bootstrap stability and the
backtest's explained share per k, and the k chosen (rfm_segments.clustering_step, which Spark's
clustering step calls too)."""
import duckdb

from rfm_segments.clustering_step import ATTRIBUTE_COLUMNS, BACKTEST_COLUMNS, RFM_COLUMNS, clusters_on_attributes, k_evaluation


def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("int_customer_rfm").project(", ".join(RFM_COLUMNS)).df()
    # the latest snapshot whose following period has happened: what customers spent next
    spend = dbt.ref("int_snapshot_next_period_spend")
    ((latest,),) = spend.aggregate("max(snapshot_date)").fetchall()
    backtest = None
    if latest is not None:
        at_latest = duckdb.ColumnExpression("snapshot_date") == duckdb.ConstantExpression(latest)
        backtest = spend.filter(at_latest).project(", ".join(BACKTEST_COLUMNS)).df()
    # dbt reads each key from a literal dbt.config.get call (keys: clustering_step.K_EVALUATION_CONFIG)
    config = {
        "k_min": dbt.config.get("k_min"),
        "k_max": dbt.config.get("k_max"),
        "n_clusters": dbt.config.get("n_clusters"),
        "cluster_seed": dbt.config.get("cluster_seed"),
        "silhouette_sample_size": dbt.config.get("silhouette_sample_size"),
        "k_stability_resamples": dbt.config.get("k_stability_resamples"),
        "k_stability_sample_size": dbt.config.get("k_stability_sample_size"),
        "cluster_on_attributes": dbt.config.get("cluster_on_attributes"),
        "attribute_cluster_weight": dbt.config.get("attribute_cluster_weight"),
    }
    # behaviour + customer attributes only when var cluster_on_attributes is on (read only then)
    attributes = dbt.ref("int_customer_attributes")
    attributes = attributes.project(", ".join(ATTRIBUTE_COLUMNS)).df() if clusters_on_attributes(config) else None
    return k_evaluation(rfm, backtest, config, attributes)
