"""End to end: the real `dbt build` (all dbt data and unit tests) on generated and real data."""
from __future__ import annotations

import csv
import hashlib
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from conftest import build, shared_data
import pandas_reference
from rfm_segments import bi_registry

#: Published marts left out of the digests: clv_fit_status records the fit's seconds, and the CLV
#: predictions come from a numerical optimiser (tests/e2e/test_clv.py checks them).
NOT_DIGESTED = {"marts.customer_clv", "marts.clv_fit_status", "marts.clv_backtest", "marts.clv_backtest_calibration"}


def digested_marts(db) -> list[str]:
    """The published marts (access public in the build's manifest) whose contents must repeat."""
    public = [model.relation for model in bi_registry.public_models(db.parent / "target")]
    assert NOT_DIGESTED <= set(public) and len(public) > len(NOT_DIGESTED)
    return [relation for relation in public if relation not in NOT_DIGESTED]


def mart_digest(db) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            mart: hashlib.sha256(
                con.execute(f"select * from {mart} order by all").df().to_csv(index=False).encode()
            ).hexdigest()
            for mart in digested_marts(db)
        }


def test_the_build_ran_every_dbt_data_and_unit_test(sample_db):
    """The small build of `make test-fast` is also the run of the dbt unit tests."""
    manifest = bi_registry.load_manifest(sample_db.parent / "target")
    results = {r["unique_id"]: r["status"] for r in json.loads(
        (sample_db.parent / "target" / "run_results.json").read_text())["results"]}
    unit_tests = [status for node, status in results.items() if node.startswith("unit_test.")]
    data_tests = [status for node, status in results.items() if node.startswith("test.")]
    assert len(unit_tests) == len(manifest["unit_tests"]) >= 6 and set(unit_tests) == {"pass"}
    assert len(data_tests) == sum(node["resource_type"] == "test" for node in manifest["nodes"].values()) >= 100
    assert set(data_tests) == {"pass"}


def test_every_line_lands_exactly_once(query, sample_csv):
    lines = sum(1 for _ in open(sample_csv)) - 1
    summary = dict(query("select outcome, rows from marts.data_quality_summary").fetchall())
    assert sum(summary.values()) == lines == 60_000
    assert summary["valid"] == query("select count(*) from marts.clean_transactions").fetchone()[0]
    assert lines - summary["valid"] == query("select count(*) from marts.rejected_transactions").fetchone()[0]
    for reason in ("missing_customer", "cancellation", "non_product_code", "duplicate", "non_positive_price"):
        assert summary[reason] > 0, reason


def test_record_number_is_the_record_of_the_file(query, sample_csv):
    """The line key counts the file's records in order (1 = the first after the header)."""
    with open(sample_csv, newline="") as lines:
        reader = csv.DictReader(lines)
        expected = [(number, row["StockCode"].strip().upper() or None, row["Description"].strip() or None)
                    for number, row in enumerate(reader, start=1)]
    loaded = query("select record_number, stock_code, description from staging.stg_retail__transaction_lines "
                   "order by record_number").fetchall()
    assert loaded == expected


def test_rfm_and_tiers_match_an_independent_pandas_implementation(query, sample_csv):
    raw = pandas_reference.read_online_retail(sample_csv)
    expected = pandas_reference.rfm_tiers(pandas_reference.customer_rfm(raw)).set_index("customer_id").sort_index()
    actual = query(
        "select customer_id, recency_days, frequency, monetary::double as monetary, "
        "r_score, f_score, m_score, rfm_score, tier from marts.customer_segments"
    ).df().set_index("customer_id").sort_index()
    assert list(actual.index) == list(expected.index)
    for column in ("recency_days", "frequency", "r_score", "f_score", "m_score", "rfm_score", "tier"):
        assert (actual[column].to_numpy() == expected[column].to_numpy()).all(), column
    np.testing.assert_allclose(actual["monetary"], expected["monetary"], atol=0.006)


def test_as_of_date_is_the_day_after_the_last_valid_sale(query):
    as_of, last_sale = query(
        "select (select max(as_of_date) from marts.customer_rfm), "
        "(select max(invoice_date) from marts.clean_transactions)"
    ).fetchone()
    assert (as_of - last_sale).days == 1
    assert query("select min(recency_days) from marts.customer_rfm").fetchone()[0] == 1


def test_every_customer_has_tier_cluster_name_and_strategy(query):
    customers = query("select count(*) from marts.customer_rfm").fetchone()[0]
    segments = query(
        "select count(*), count(tier), count(cluster_id), count(segment_name), count(strategy), "
        "count(distinct cluster_id), count(distinct segment_name) from marts.customer_segments"
    ).fetchone()
    assert segments[:5] == (customers,) * 5
    assert segments[5] == segments[6] >= 2
    chosen = query("select k from clustering.cluster_k_evaluation where is_chosen").fetchall()
    assert chosen == [(segments[5],)]


def test_segment_profiles_add_up(query):
    customers, share, revenue, revenue_share = query(
        "select sum(customers), sum(customer_share), sum(revenue), sum(revenue_share) from marts.segment_profiles"
    ).fetchone()
    total_customers, total_revenue = query("select count(*), sum(monetary) from marts.customer_rfm").fetchone()
    assert customers == total_customers
    assert revenue == total_revenue
    assert share == pytest.approx(1) and revenue_share == pytest.approx(1)
    # Cluster 1 is the most valuable: its customers spend more than the last cluster's.
    first, last = query(
        "select first(median_monetary order by cluster_id), last(median_monetary order by cluster_id) "
        "from marts.segment_profiles"
    ).fetchone()
    assert first > last


@pytest.mark.parametrize(
    "lens_a, lens_b, column_a, column_b",
    [("tier", "cluster", "tier", "cluster_id"), ("tier", "named_segment", "tier", "named_segment"),
     ("cluster", "named_segment", "cluster_id", "named_segment")],
)
def test_agreement_figures_equal_scikit_learn(query, lens_a, lens_b, column_a, column_b):
    pairs = query(f"select {column_a} as a, {column_b} as b from marts.customer_segments").df()
    ari, nmi, cramers_v = query(
        "select adjusted_rand_index, normalized_mutual_information, cramers_v from marts.segmentation_agreement "
        f"where segmentation_a = '{lens_a}' and segmentation_b = '{lens_b}'"
    ).fetchone()
    assert ari == pytest.approx(adjusted_rand_score(pairs["a"], pairs["b"]), abs=1e-9)
    assert nmi == pytest.approx(normalized_mutual_info_score(pairs["a"], pairs["b"]), abs=1e-9)
    table = pd.crosstab(pairs["a"], pairs["b"]).to_numpy(dtype=float)
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    assert cramers_v == pytest.approx(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))), abs=1e-9)


def test_comparison_cells_cover_every_customer(query):
    rows = query(
        "select sum(customers), sum(share_of_customers) from marts.tier_cluster_comparison"
    ).fetchone()
    assert rows[0] == query("select count(*) from marts.customer_segments").fetchone()[0]
    assert rows[1] == pytest.approx(1)
    per_tier = query(
        "select tier, sum(share_of_tier) from marts.tier_cluster_comparison group by 1"
    ).fetchall()
    assert all(share == pytest.approx(1) for _, share in per_tier)


def test_rebuild_gives_identical_marts(sample_db, sample_csv, tmp_path):
    again = build(tmp_path, "--data", str(sample_csv))
    assert mart_digest(again) == mart_digest(sample_db)


def test_real_online_retail_sample_every_row_accounted_for(tmp_path):
    path = shared_data("online_retail_sample.csv")
    db = build(tmp_path, "--data", str(path))
    raw = pandas_reference.read_online_retail(path)
    expected = pandas_reference.classify_lines(raw).fillna("valid").value_counts().to_dict()
    with duckdb.connect(str(db), read_only=True) as con:
        summary = dict(con.execute("select outcome, rows from marts.data_quality_summary where rows > 0").fetchall())
    assert sum(summary.values()) == 30_000
    assert summary == expected
    # The file's published dirt, counted on the raw text.
    assert summary["missing_customer"] == (raw["CustomerID"] == "").sum() == 2_000


def test_a_given_as_of_date_ignores_later_sales(sample_csv, tmp_path):
    db = build(tmp_path, "--data", str(sample_csv), "--vars", "{as_of_date: '2011-09-01', n_clusters: 3}")
    raw = pandas_reference.read_online_retail(sample_csv)
    expected = pandas_reference.rfm_tiers(pandas_reference.customer_rfm(raw, as_of_date="2011-09-01"))
    with duckdb.connect(str(db), read_only=True) as con:
        actual = con.execute(
            "select customer_id, recency_days, frequency, tier, last_purchase_date, as_of_date "
            "from marts.customer_segments order by customer_id"
        ).df()
        clusters = con.execute("select count(distinct cluster_id) from marts.customer_segments").fetchone()[0]
    expected = expected.sort_values("customer_id").reset_index(drop=True)
    assert list(actual["customer_id"]) == list(expected["customer_id"])  # one row per customer
    assert (actual["recency_days"].to_numpy() == expected["recency_days"].to_numpy()).all()
    assert (actual["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()
    assert (actual["tier"].to_numpy() == expected["tier"].to_numpy()).all()
    assert (pd.to_datetime(actual["last_purchase_date"]) < pd.Timestamp("2011-09-01")).all()
    assert set(actual["as_of_date"].astype(str)) == {"2011-09-01"}
    assert clusters == 3
