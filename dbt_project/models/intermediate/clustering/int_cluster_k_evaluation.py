"""K-Means evidence: inertia and quality scores for every k evaluated, bootstrap stability and the
backtest's explained share per k, and the k chosen (rfm_segments.clustering.choose_k)."""
import duckdb

from rfm_segments.clustering import choose_k, evaluate_k, mark_chosen
from rfm_segments.dbt_values import optional_int
from rfm_segments.stability import add_k_evidence


def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("int_customer_rfm").project("customer_id, recency_days, frequency, monetary").df()
    k_min, k_max = int(dbt.config.get("k_min")), int(dbt.config.get("k_max"))
    seed = int(dbt.config.get("cluster_seed"))
    override = optional_int(dbt.config.get("n_clusters"))
    if override is not None:  # evaluate the user's k too, so its evidence is on record
        k_min, k_max = min(k_min, override), max(k_max, override)
    evaluation = evaluate_k(
        rfm,
        k_min=k_min,
        k_max=k_max,
        seed=seed,
        silhouette_sample_size=int(dbt.config.get("silhouette_sample_size")),
    )
    # the latest snapshot whose following period has happened: what customers spent next
    spend = dbt.ref("int_snapshot_next_period_spend")
    ((latest,),) = spend.aggregate("max(snapshot_date)").fetchall()
    backtest = None
    if latest is not None:
        at_latest = duckdb.ColumnExpression("snapshot_date") == duckdb.ConstantExpression(latest)
        backtest = spend.filter(at_latest).project(
            "customer_id, recency_days, frequency, monetary, next_period_spend"
        ).df()
    evaluation = add_k_evidence(
        evaluation,
        rfm,
        backtest=backtest,
        n_resamples=int(dbt.config.get("k_stability_resamples")),
        seed=seed,
        sample_size=int(dbt.config.get("k_stability_sample_size")),
    )
    if override is not None:
        k, reason = override, f"set by var n_clusters={override}"
    else:
        k, reason = choose_k(evaluation)
    return mark_chosen(evaluation, k, reason)
