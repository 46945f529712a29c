"""Segments over time, end to end: snapshots, no future leakage, the stored model scored in SQL,
history, migration, sizes and drift marts on the generated sample and the real invoices file."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from conftest import build, shared_data, write_lines_before
from rfm_segments.drift import bin_counts, population_stability_index, quantile_bin_edges

SNAPSHOT = "2011-06-01"


def frame(db, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def test_monthly_snapshots_end_at_the_as_of_date(query):
    dates = [d for (d,) in query("select snapshot_date from intermediate.int_snapshot_dates order by 1").fetchall()]
    (first_sale, as_of) = query(
        "select min(invoice_date), max(as_of_date) from marts.clean_transactions, marts.customer_rfm"
    ).fetchone()
    assert dates[-1] == as_of
    assert all(d.day == 1 for d in dates[:-1]) and dates[0] > first_sale
    assert len(dates) == len({(d.year, d.month) for d in dates[:-1]}) + 1


def test_candidate_is_todays_fresh_fit(query):
    """The fresh fit survives under its own column names, beside the served answer."""
    mismatches = query("""
        select count(*) from marts.customer_segments as today
        join clustering.customer_clusters as fresh using (customer_id)
        where today.candidate_cluster_id <> fresh.cluster_id or today.candidate_segment_name <> fresh.segment_name
    """).fetchone()[0]
    assert mismatches == 0


def test_a_snapshot_equals_a_run_on_data_truncated_at_its_date(sample_db, sample_csv, tmp_path):
    truncated = write_lines_before(sample_csv, tmp_path / "before_snapshot.csv", SNAPSHOT)
    # explicit snapshots, training date and an asked refit, tested below on the same build
    db = build(tmp_path, "--data", str(truncated), "--vars",
               f"{{as_of_date: '{SNAPSHOT}', snapshot_dates: ['2011-03-01', '2011-04-01', '{SNAPSHOT}'], "
               f"history_training_date: '2011-03-01', history_refit_dates: ['{SNAPSHOT}'], history_auto_refit: false}}")
    columns = "customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_score, tier, named_segment"
    alone = frame(db, f"select {columns} from marts.customer_segments order by customer_id")
    snapshot = frame(
        sample_db,
        f"select {columns} from marts.customer_segment_history where snapshot_date = '{SNAPSHOT}' order by customer_id",
    )
    assert len(snapshot) > 100
    pd.testing.assert_frame_equal(alone, snapshot, check_dtype=False)
    # ...and every earlier snapshot of that run equals the full run's: later sales change nothing.
    earlier = (f"select snapshot_date, {columns} from marts.customer_segment_history "
               "where snapshot_date in ('2011-03-01', '2011-04-01') order by snapshot_date, customer_id")
    assert len(frame(db, earlier)) > 100
    pd.testing.assert_frame_equal(
        frame(db, earlier),
        frame(sample_db, earlier),
        check_dtype=False,
    )
    checks = frame(db, "select cast(snapshot_date as varchar) as d, action, model_version "
                       "from marts.model_retraining_checks order by 1")
    assert checks["d"].tolist() == ["2011-03-01", "2011-04-01", SNAPSHOT]
    assert checks["action"].tolist()[:2] == ["initial fit", "kept"]
    assert checks["action"].iloc[2].startswith("refit asked") and checks["model_version"].tolist() == [1, 1, 2]


def test_sql_scoring_is_the_nearest_stored_centroid(sample_db):
    history = frame(sample_db, """
        select snapshot_date, customer_id, recency_days, frequency, monetary, model_version, cluster_id
        from marts.customer_segment_history where model_version is not null""")
    models = frame(sample_db, "select * from clustering.cluster_model_versions")
    assert len(history) > 1000 and models["model_version"].nunique() >= 1
    for version, model in models.groupby("model_version"):
        rows = history[history["model_version"] == version]
        features = ["recency_days", "frequency", "monetary"]
        X = np.column_stack([
            (np.log1p(rows[f].astype(float)) - model[f"{f}_log_mean"].iloc[0]) / model[f"{f}_log_scale"].iloc[0]
            for f in features
        ])
        centres = model[[f"{f}_centroid" for f in features]].to_numpy()
        nearest = model["cluster_id"].to_numpy()[((X[:, None] - centres[None]) ** 2).sum(2).argmin(1)]
        assert (nearest == rows["cluster_id"].to_numpy()).mean() > 0.999
        # each model serves from the snapshot it was trained on until the next takes over
        assert (rows["snapshot_date"] >= model["trained_as_of"].iloc[0]).all()


def test_history_previous_values_and_since_dates(query):
    bad = query("""
        with h as (select * from marts.customer_segment_history)
        select count(*) from h
        left join h as p on p.customer_id = h.customer_id and p.snapshot_date = h.previous_snapshot_date
        where h.previous_tier is distinct from p.tier
            or h.previous_named_segment is distinct from p.named_segment
            or h.previous_cluster_id is distinct from p.cluster_id
            or h.is_new_customer <> (p.customer_id is null)
            or (h.tier is distinct from h.previous_tier and h.tier_since <> h.snapshot_date)
            or (h.tier is not distinct from h.previous_tier and h.tier_since <> p.tier_since)
            or (h.named_segment is not distinct from h.previous_named_segment
                and h.named_segment_since <> p.named_segment_since)
            or (h.named_segment is distinct from h.previous_named_segment
                and h.named_segment_since <> h.snapshot_date)
    """).fetchone()[0]
    assert bad == 0
    # customers really do move: some changed named segment since their first snapshot
    assert query("select count(*) from marts.customer_segment_history where named_segment_since > "
                 "(select min(snapshot_date) from marts.customer_segment_history)").fetchone()[0] > 0


def test_migration_adds_up_to_snapshots_and_sales(query):
    bad = query("""
        with moved as (
            select lens, to_snapshot_date, sum(customers) filter (where target <> '(left)') as customers,
                   sum(revenue) as revenue
            from marts.segment_migration group by 1, 2),
        sizes as (
            select snapshot_date, count(*) as customers from marts.customer_segment_history group by 1),
        pairs as (
            select snapshot_date, lag(snapshot_date) over (order by snapshot_date) as from_date
            from intermediate.int_snapshot_dates),
        sales as (
            select pairs.snapshot_date, sum(t.amount) as revenue from pairs
            join marts.clean_transactions as t
                on t.invoice_date >= pairs.from_date and t.invoice_date < pairs.snapshot_date
            group by 1)
        select count(*) from moved
        join sizes on moved.to_snapshot_date = sizes.snapshot_date
        left join sales on moved.to_snapshot_date = sales.snapshot_date
        where moved.customers <> sizes.customers or moved.revenue <> coalesce(sales.revenue, 0)
    """).fetchone()[0]
    assert bad == 0
    lenses = {lens for (lens,) in query("select distinct lens from marts.segment_migration").fetchall()}
    assert lenses == {"tier", "cluster", "named_segment"}
    assert query("select sum(customers) from marts.segment_migration where source = '(new customer)' and lens = 'tier'").fetchone()[0] > 0
    shares = query("select lens, snapshot_date, sum(customer_share), sum(monetary_share) "
                   "from marts.segment_sizes_over_time group by 1, 2").fetchall()
    assert shares and all(c == pytest.approx(1) and m == pytest.approx(1) for _, _, c, m in shares)


def test_stored_drift_recomputes_from_the_history(sample_db):
    history = frame(sample_db, "select snapshot_date, recency_days, frequency, monetary from marts.customer_segment_history")
    drift = frame(sample_db, "select * from marts.segment_feature_drift")
    versions = frame(sample_db, "select distinct model_version, trained_as_of from clustering.cluster_model_versions")
    checks = frame(sample_db, "select * from marts.model_retraining_checks order by snapshot_date")
    assert len(drift) == 3 * (len(checks) - 1) and len(drift) > 0
    trained = dict(zip(versions["model_version"], versions["trained_as_of"]))
    for row in drift.itertuples():
        reference = history[history["snapshot_date"] == trained[row.model_version]][row.feature].astype(float)
        current = history[history["snapshot_date"] == row.snapshot_date][row.feature].astype(float)
        edges = quantile_bin_edges(reference.to_numpy())
        psi = population_stability_index(bin_counts(reference.to_numpy(), edges), bin_counts(current.to_numpy(), edges))
        assert row.psi == pytest.approx(psi, abs=1e-12)
    top = drift.groupby("snapshot_date")["psi"].max()
    later = checks.iloc[1:].set_index("snapshot_date")
    assert np.allclose(later["max_feature_psi"], top.loc[later.index])
    assert set(checks["recommendation"]) <= {"keep", "watch", "retrain"}
    refits = checks[checks["action"].str.startswith("refit")]
    assert (refits["recommendation"] == "retrain").all()  # auto refit only when the rule says so
    assert checks["model_version"].is_monotonic_increasing


def test_real_invoices_monthly_history(tmp_path):
    db = build(tmp_path, "--data", str(shared_data("online_retail_invoices.csv")),
               "--vars", "{n_clusters: 4}")
    dates = frame(db, "select snapshot_date from intermediate.int_snapshot_dates order by 1")["snapshot_date"]
    assert [d.strftime("%Y-%m-%d") for d in dates] == [f"2011-{m:02d}-01" for m in range(1, 13)] + ["2011-12-10"]
    latest = frame(db, "select count(*) as customers, sum(monetary) as revenue from marts.customer_segment_history "
                       "where snapshot_date = '2011-12-10'")
    assert latest["customers"].item() == 4338
    assert float(latest["revenue"].item()) == pytest.approx(8_911_407.90, abs=0.005)
    # every pound of the year is in the first snapshot or moved in some snapshot-to-snapshot flow
    first = frame(db, "select sum(monetary) as m from marts.customer_segment_history where snapshot_date = '2011-01-01'")
    moved = frame(db, "select sum(revenue) as r from marts.segment_migration where lens = 'named_segment'")
    assert float(first["m"].item() + moved["r"].item()) == pytest.approx(8_911_407.90, abs=0.005)
    checks = frame(db, "select * from marts.model_retraining_checks order by snapshot_date")
    assert checks["snapshot_date"].iloc[0].strftime("%Y-%m-%d") == "2011-01-01"  # 885 customers >= 100
    assert len(checks) == 13 and checks["recommendation"].isin(["keep", "watch", "retrain"]).all()
    versions = frame(db, "select model_version, count(*) as clusters from clustering.cluster_model_versions group by 1")
    assert (versions["clusters"] == 4).all()

