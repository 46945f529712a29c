"""The segment backtest on the real Online Retail invoices: recomputed independently in pandas
from the cleaned sales and the history, and the published figures (docs/segments.md)."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from conftest import build, run_pipeline, shared_data

LENS_COLUMN = {"tier": "tier", "cluster": "segment_name", "named_segment": "named_segment"}


@pytest.fixture(scope="module")
def retail_db(tmp_path_factory):
    return build(tmp_path_factory.mktemp("backtest"), "--data", str(shared_data("online_retail_invoices.csv")))


def frame(db, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def test_backtest_recomputes_from_sales_and_history(retail_db):
    backtest = frame(retail_db, "select * from marts.segment_backtest")
    history = frame(retail_db, "select snapshot_date, customer_id, tier, segment_name, named_segment "
                               "from marts.customer_segment_history")
    sales = frame(retail_db, "select customer_id, invoice_date, amount from marts.clean_transactions")
    as_of = frame(retail_db, "select max(as_of_date) as d from marts.customer_segments")["d"].item()
    complete = sorted(d for d in history["snapshot_date"].unique()
                      if pd.Timestamp(d) + pd.Timedelta(days=90) <= pd.Timestamp(as_of))
    assert sorted(backtest["snapshot_date"].unique()) == complete
    for snapshot in complete:
        start, end = pd.Timestamp(snapshot), pd.Timestamp(snapshot) + pd.Timedelta(days=90)
        window = sales[(pd.to_datetime(sales["invoice_date"]) >= start) & (pd.to_datetime(sales["invoice_date"]) < end)]
        spend = window.groupby("customer_id")["amount"].sum().astype(float)
        members = history[history["snapshot_date"] == snapshot].copy()
        members["spend"] = members["customer_id"].map(spend).fillna(0.0)
        members["log_spend"] = np.log1p(members["spend"])
        total_ss = ((members["log_spend"] - members["log_spend"].mean()) ** 2).sum()
        for lens, column in LENS_COLUMN.items():
            groups = members.groupby(members[column].fillna("(no model)"))
            mine = backtest[(backtest["lens"] == lens) & (backtest["snapshot_date"] == snapshot)].set_index("segment")
            assert sorted(mine.index) == sorted(groups.groups)
            size = groups.size()
            assert (mine.loc[size.index, "customers"] == size).all()
            rebuy = groups["spend"].apply(lambda s: (s > 0).mean())
            np.testing.assert_allclose(mine.loc[rebuy.index, "rebuy_rate"], rebuy, atol=1e-12)
            revenue = groups["spend"].sum()
            np.testing.assert_allclose(mine.loc[revenue.index, "next_period_revenue"].astype(float), revenue, atol=0.006)
            between = (size * (groups["log_spend"].mean() - members["log_spend"].mean()) ** 2).sum()
            assert mine["lens_explained_share"].iloc[0] == pytest.approx(between / total_ss, abs=1e-7)


def test_published_backtest_figures(retail_db):
    """The figures in docs/segments.md: the 90 days after 2011-09-01."""
    latest = frame(retail_db, "select * from marts.segment_backtest where is_latest_complete_period")
    assert set(latest["snapshot_date"].astype(str)) == {"2011-09-01"}
    explained = latest.groupby("lens")["lens_explained_share"].first().round(3).to_dict()
    assert explained == {"tier": 0.238, "named_segment": 0.224, "cluster": 0.221}
    revenue = latest.groupby("lens")["next_period_revenue"].sum().astype(float)
    assert revenue.round(2).tolist() == [2_549_676.93] * 3
    by = latest.set_index(["lens", "segment"])
    assert tuple(by.loc[("tier", "Platinum"), ["customers", "customers_bought_again"]]) == (598, 546)
    assert tuple(by.loc[("tier", "Bronze"), ["customers", "customers_bought_again"]]) == (1174, 414)
    assert tuple(by.loc[("named_segment", "Lost"), ["customers", "customers_bought_again"]]) == (291, 95)
    assert tuple(by.loc[("cluster", "Lapsing Low-Value"), ["customers", "customers_bought_again"]]) == (1498, 558)
    flagged = sorted(latest.loc[latest["strategy_contradicted"], "segment"])
    assert flagged == ["Bronze", "Hibernating", "Lost"]
    # flagged in the profiles too, with the same latest period
    named = frame(retail_db, "select named_segment, strategy_contradicted, backtest_rebuy_rate, backtest_snapshot_date "
                             "from marts.named_segment_profiles").set_index("named_segment")
    assert sorted(named.index[named["strategy_contradicted"]]) == ["Hibernating", "Lost"]
    assert named.loc["Lost", "backtest_rebuy_rate"] == pytest.approx(95 / 291)
    profiles = frame(retail_db, "select segment_name, backtest_rebuy_rate, backtest_snapshot_date, "
                                "backtest_lens_explained_share from marts.segment_profiles")
    assert set(profiles["backtest_snapshot_date"].astype(str)) == {"2011-09-01"}
    assert profiles["backtest_lens_explained_share"].round(3).eq(0.221).all()


def test_run_summary_names_contradicted_strategies(retail_db):
    result = run_pipeline(retail_db.parent, "summary", db_name=retail_db.name)
    assert result.returncode == 0, result.stderr
    assert ("Backtest, the 90 days after 2011-09-01: next-period spend explained (eta squared of log spend) "
            "by tiers 0.24, named segments 0.22, clusters 0.22") in result.stdout
    assert "STRATEGY CONTRADICTED: named_segment 'Lost' re-bought at 32.6% (premise allows 25%)" in result.stdout
    assert "STRATEGY CONTRADICTED: tier 'Bronze' re-bought at 35.3%" in result.stdout


def test_k_evaluation_records_stability_and_the_backtest(retail_db):
    evaluation = frame(retail_db, "select * from clustering.cluster_k_evaluation order by k").set_index("k")
    assert list(evaluation.index) == list(range(2, 9))
    assert evaluation["stability_min_jaccard"].between(0, 1).all()
    assert (evaluation["stability_min_jaccard"] <= evaluation["stability_mean_jaccard"]).all()
    assert evaluation["backtest_explained_share"].round(3).tolist() == [0.185, 0.221, 0.219, 0.244, 0.245, 0.242, 0.252]
    chosen = evaluation[evaluation["is_chosen"]]
    assert chosen.index.tolist() == [3]
    assert chosen["choice_reason"].item() == (
        "knee of inertia at k=4; k=3 has the best silhouette within 1 of it, 0.34 (2nd best of 7); "
        f"stable (min cluster Jaccard {chosen['stability_min_jaccard'].item():.2f}); "
        "backtest: explains 22% of next-period spend (k=8: 25%)")
