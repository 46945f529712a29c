"""Does clustering on behaviour + customer attributes make the segments more useful, or only
different? `python -m rfm_segments.attribute_evidence [--db warehouse/segments.duckdb]`

Reads a warehouse built with a customer attributes file (customer_rfm, the per-customer
intermediate.int_customer_attributes, and intermediate.int_snapshot_next_period_spend at the
latest snapshot whose next period has happened) and, with the k the build chose, fits K-Means on
behaviour only and on behaviour + attributes (rfm_segments.clustering.encode_attributes, per
weight), then prints for each: the k evidence (silhouette, bootstrap stability, backtest
explained share, as rfm_segments.stability.add_k_evidence computes them), the backtest re-buy
spread (highest minus lowest share of a cluster's customers who bought in the next period) and
the agreement (adjusted Rand index) with the behaviour-only clusters. docs/customer-attributes.md
reports the result on the generated CRM file.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from rfm_segments.clustering import encode_attributes, evaluate_k, fit_clusters
from rfm_segments.stability import add_k_evidence

RFM = "customer_id, recency_days, frequency, monetary"


def with_attributes(rfm: pd.DataFrame, attributes: pd.DataFrame, weight: float) -> pd.DataFrame:
    features, _ = encode_attributes(rfm["customer_id"], attributes, weight=weight)
    return rfm.merge(features, on="customer_id", how="left", validate="1:1")


def rebuy_spread(backtest: pd.DataFrame, k: int, seed: int) -> float:
    labels = fit_clusters(backtest, n_clusters=k, seed=seed)["cluster_id"].to_numpy()
    rebought = backtest["next_period_spend"].to_numpy(dtype=float) > 0
    rates = [rebought[labels == c].mean() for c in np.unique(labels)]
    return float(max(rates) - min(rates))


def compare(db: Path, weights: tuple[float, ...] = (0.5, 1.0), seed: int = 42) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        rfm = con.execute(f"select {RFM} from marts.customer_rfm").df()
        attributes = con.execute("select * from intermediate.int_customer_attributes").df()
        (k,), = con.execute("select k from clustering.cluster_k_evaluation where is_chosen").fetchall()
        backtest = con.execute(
            f"select {RFM}, next_period_spend from intermediate.int_snapshot_next_period_spend "
            "where snapshot_date = (select max(snapshot_date) from intermediate.int_snapshot_next_period_spend)"
        ).df()
    behaviour = fit_clusters(rfm, n_clusters=k, seed=seed)["cluster_id"]
    rows = []
    for weight in (0.0, *weights):
        data = rfm if weight == 0 else with_attributes(rfm, attributes, weight)
        period = backtest if weight == 0 else with_attributes(backtest, attributes, weight)
        evaluation = add_k_evidence(evaluate_k(data, k_min=k, k_max=k, seed=seed), data, backtest=period, seed=seed)
        evidence = evaluation.set_index("k").loc[k]
        labels = fit_clusters(data, n_clusters=k, seed=seed)["cluster_id"]
        rows.append({
            "features": "behaviour" if weight == 0 else f"behaviour + attributes (weight {weight:g})",
            "k": k, "silhouette": evidence["silhouette"],
            "stability_min_jaccard": evidence["stability_min_jaccard"],
            "backtest_explained_share": evidence["backtest_explained_share"],
            "backtest_rebuy_spread": rebuy_spread(period, k, seed),
            "ari_with_behaviour_only": adjusted_rand_score(behaviour, labels),
        })
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="warehouse/segments.duckdb", help="the warehouse dbt wrote")
    options = parser.parse_args(argv)
    print(compare(Path(options.db)).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
