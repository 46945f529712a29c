"""K-Means evidence: inertia and quality scores for every k evaluated, bootstrap stability and the
backtest's explained share per k, and the k chosen (rfm_segments.clustering_step, which Spark's
clustering step calls too)."""
import duckdb

from rfm_segments.clustering_step import BACKTEST_COLUMNS, RFM_COLUMNS, k_evaluation


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
    }
    return k_evaluation(rfm, backtest, config)
