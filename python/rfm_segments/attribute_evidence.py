"""Does clustering on behaviour + customer attributes make the segments more useful, or only
different? `python -m rfm_segments.attribute_evidence [--db warehouse/segments.duckdb] [--write-docs]`

Reads a warehouse built with a customer attributes file (customer_rfm, the per-customer
intermediate.int_customer_attributes, and intermediate.int_snapshot_next_period_spend at the
latest snapshot whose next period has happened) and, with the k the build chose, runs the build's
own clustering step (rfm_segments.clustering_step, as var cluster_on_attributes does) on
behaviour only and on behaviour + attributes, per weight, then gives for each: the k evidence
(silhouette, bootstrap stability, backtest explained share), the backtest re-buy spread (highest
minus lowest share of a cluster's customers who bought in the next period) and the agreement
(adjusted Rand index) with the behaviour-only clusters. `--write-docs` puts the table into
docs/customer-attributes.md (between its attribute-evidence markers); a test checks it there.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from rfm_segments import clustering_step
from rfm_segments.clustering import fit_clusters
from rfm_segments.project_vars import project_vars

DOCS = Path(__file__).resolve().parents[2] / "docs" / "customer-attributes.md"
DOCS_START = "<!-- attribute-evidence:start (python -m rfm_segments.attribute_evidence --write-docs) -->"
DOCS_END = "<!-- attribute-evidence:end -->"
RFM = ", ".join(clustering_step.RFM_COLUMNS)


def step_config(k: int, weight: float) -> dict:
    """The clustering step's config for one k, behaviour only (weight 0) or with attributes; the
    other parameters are the project's vars."""
    return {**project_vars(), "k_min": k, "k_max": k, "n_clusters": None,
            "cluster_on_attributes": weight > 0, "attribute_cluster_weight": weight}


def rebuy_spread(backtest: pd.DataFrame, k: int, seed: int) -> float:
    labels = fit_clusters(backtest, n_clusters=k, seed=seed)["cluster_id"].to_numpy()
    rebought = backtest["next_period_spend"].to_numpy(dtype=float) > 0
    rates = [rebought[labels == c].mean() for c in np.unique(labels)]
    return float(max(rates) - min(rates))


def compare(db: Path, weights: tuple[float, ...] = (0.5, 1.0)) -> pd.DataFrame:
    seed = project_vars()["cluster_seed"]
    with duckdb.connect(str(db), read_only=True) as con:
        rfm = con.execute(f"select {RFM} from marts.customer_rfm").df()
        attributes = con.execute(f"select {', '.join(clustering_step.ATTRIBUTE_COLUMNS)} "
                                 "from intermediate.int_customer_attributes").df()
        (k,), = con.execute("select k from clustering.cluster_k_evaluation where is_chosen").fetchall()
        backtest = con.execute(
            f"select {', '.join(clustering_step.BACKTEST_COLUMNS)} from intermediate.int_snapshot_next_period_spend "
            "where snapshot_date = (select max(snapshot_date) from intermediate.int_snapshot_next_period_spend)"
        ).df()
    rows, behaviour = [], None
    for weight in (0.0, *weights):
        config = step_config(k, weight)
        evidence = clustering_step.k_evaluation(rfm, backtest, config, attributes).set_index("k").loc[k]
        labels = fit_clusters(clustering_step.with_attributes(rfm, attributes, config), n_clusters=k, seed=seed)["cluster_id"]
        behaviour = labels if behaviour is None else behaviour
        rows.append({
            "features": "behaviour" if weight == 0 else f"behaviour + attributes, weight {weight:g}",
            "k": k, "silhouette": evidence["silhouette"],
            "stability_min_jaccard": evidence["stability_min_jaccard"],
            "backtest_explained_share": evidence["backtest_explained_share"],
            "backtest_rebuy_spread": rebuy_spread(clustering_step.with_attributes(backtest, attributes, config), k, seed),
            "ari_with_behaviour_only": adjusted_rand_score(behaviour, labels),
        })
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The comparison as the docs' Markdown table (3 decimals)."""
    head = ("| features | k | silhouette | min. stability (Jaccard) | backtest explained share "
            "| backtest re-buy spread | ARI with behaviour-only |")
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in table.itertuples(index=False):
        numbers = (row.silhouette, row.stability_min_jaccard, row.backtest_explained_share,
                   row.backtest_rebuy_spread, row.ari_with_behaviour_only)
        lines.append(f"| {row.features} | {row.k} | " + " | ".join(f"{x:.3f}" for x in numbers) + " |")
    return "\n".join(lines)


def docs_table(text: str) -> str:
    """The table between the markers of docs/customer-attributes.md."""
    return text.split(DOCS_START, 1)[1].split(DOCS_END, 1)[0].strip()


def write_docs(table: pd.DataFrame, path: Path = DOCS) -> None:
    text = path.read_text(encoding="utf-8")
    before, rest = text.split(DOCS_START, 1)
    after = rest.split(DOCS_END, 1)[1]
    path.write_text(f"{before}{DOCS_START}\n{markdown(table)}\n{DOCS_END}{after}", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="warehouse/segments.duckdb", help="the warehouse dbt wrote")
    parser.add_argument("--write-docs", action="store_true", help=f"write the table into {DOCS.name}")
    options = parser.parse_args(argv)
    table = compare(Path(options.db))
    print(markdown(table))
    if options.write_docs:
        write_docs(table)
        print(f"==> wrote the table into {DOCS}")


if __name__ == "__main__":
    main()
