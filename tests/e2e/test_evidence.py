"""End to end: model evidence, stability, named RFM segments and lens comparison in the marts."""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, run_pipeline
from rfm_segments.clustering import STABLE_JACCARD

SEEDS = REPO / "dbt_project" / "seeds"
CLASSIC_SEGMENTS = {
    "Champions", "Loyal Customers", "Potential Loyalists", "New Customers", "Promising", "Need Attention",
    "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
}


def read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def fm_score(f: int, m: int) -> int:
    """Independent of the SQL macro: the mean of f and m, halves rounded up."""
    return int(np.ceil((f + m) / 2))


# ----------------------------------------------------------------------- the named segment seeds


def test_segment_map_gives_every_score_combination_exactly_one_segment():
    rows = read_seed("rfm_named_segment_map")
    keys = [(int(r["r_score"]), int(r["fm_score"])) for r in rows]
    assert sorted(keys) == sorted(product(range(1, 5), range(1, 5)))  # each once, none missing
    segment_of = {key: r["named_segment"] for key, r in zip(keys, rows)}
    for r, f, m in product(range(1, 5), repeat=3):
        assert segment_of[(r, fm_score(f, m))] in CLASSIC_SEGMENTS


def test_every_classic_segment_is_reachable_and_has_an_action():
    reached = {
        r["named_segment"] for r in read_seed("rfm_named_segment_map")
    }
    actions = {r["named_segment"]: r for r in read_seed("rfm_named_segments")}
    assert reached == set(actions) == CLASSIC_SEGMENTS
    assert all(a["recommended_action"].strip() and a["description"].strip() for a in actions.values())
    assert sorted(int(a["segment_order"]) for a in actions.values()) == list(range(1, 12))


def test_metric_directions_are_stated():
    directions = {r["metric"]: r["better"] for r in read_seed("k_evaluation_metrics")}
    assert directions["inertia"] == "lower" and directions["davies_bouldin"] == "lower"
    assert directions["silhouette"] == directions["calinski_harabasz"] == directions["stability_jaccard"] == "higher"


def test_the_silhouette_bands_are_numbers_and_the_published_meaning_is_written_from_them(query):
    """Seed k_evaluation_metrics holds the bands as numbers (the report's words use them); the
    sentence in the published meaning is written from them, so the two cannot disagree."""
    seed = {r["metric"]: r for r in read_seed("k_evaluation_metrics")}["silhouette"]
    row = query("select * from clustering.cluster_evaluation_metrics where metric = 'silhouette'").df().iloc[0]
    assert (row.strong_from, row.reasonable_from) == (float(seed["strong_from"]), float(seed["reasonable_from"]))
    strong, reasonable = f"{row.strong_from:g}", f"{row.reasonable_from:g}"
    assert row.meaning == (f"{seed['meaning']} Above {strong} strong, {reasonable}-{strong} reasonable, "
                           f"below {reasonable} weak structure.")
    assert strong not in seed["meaning"] and reasonable not in seed["meaning"]  # not typed a second time


@pytest.fixture(scope="module")
def broken_map_project(tmp_path_factory) -> Path:
    """A copy of the dbt project whose segment map misses (1, 1), doubles (4, 4) and never reaches Lost."""
    root = tmp_path_factory.mktemp("broken_map")
    shutil.copytree(REPO / "dbt_project", root / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(REPO / "python", root / "python", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "profiles.yml", root)
    seed = root / "dbt_project" / "seeds" / "rfm_named_segment_map.csv"
    lines = [line for line in seed.read_text().splitlines() if line != "1,1,Lost"]
    seed.write_text("\n".join(lines + ["4,4,Loyal Customers"]) + "\n")
    return root


def dbt(project_root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DBT_PROFILES_DIR=str(project_root), SEGMENTS_DB=str(project_root / "x.duckdb"),
               SEGMENTS_RAW=str(project_root / "none.csv"))
    return subprocess.run([str(Path(sys.executable).with_name("dbt")), *args], cwd=project_root / "dbt_project",
                          env=env, capture_output=True, text=True)


def test_the_dbt_tests_catch_a_broken_segment_map(broken_map_project):
    result = dbt(broken_map_project, "build", "--select",
                 "rfm_named_segment_map rfm_named_segments named_segment_map_covers_every_score_combination "
                 "every_named_segment_is_reachable")
    assert result.returncode != 0
    failures = dict(
        (match.group(2), int(match.group(1)))
        for match in re.finditer(r"FAIL (\d+) +(\w+)", result.stdout)
    )
    # (1, 1) missing: r=1, f=m=1, one combination; (4, 4) doubled: r=4, f+m in {7, 8}, three.
    assert failures == {
        "named_segment_map_covers_every_score_combination": 4,
        "every_named_segment_is_reachable": 1,
    }, result.stdout[-3000:]


def test_the_segment_map_tests_are_registered_with_dbt(tmp_path):
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), SEGMENTS_DB=str(tmp_path / "x.duckdb"),
               DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
    listed = subprocess.run([str(Path(sys.executable).with_name("dbt")), "ls", "--resource-type", "test",
                             "--output", "name"], cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
    names = listed.stdout
    for test in ("named_segment_map_covers_every_score_combination", "every_named_segment_is_reachable",
                 "relationships_rfm_named_segment_map_named_segment", "exactly_one_true_cluster_k_evaluation_is_chosen",
                 "not_null_cluster_stability_mean_jaccard", "unique_cluster_silhouette_values_customer_id",
                 "not_null_customer_segments_named_segment"):
        assert test in names, test


# ------------------------------------------------------------------------------- the marts


def purchase_cycle_days(query) -> float:
    """Median gap in days between consecutive purchase days of the same customer, in pandas."""
    days = query("select distinct customer_id, invoice_date from marts.clean_transactions").df()
    days = days.sort_values(["customer_id", "invoice_date"])
    gaps = days.groupby("customer_id")["invoice_date"].diff().dropna().dt.days
    return float(gaps.median())


def test_recency_words_in_business_time(query):
    cycle = purchase_cycle_days(query)
    words = read_seed("recency_words")
    bounds = [(w["recency_word"], round(float(w["up_to_purchase_cycles"]) * cycle) if w["up_to_purchase_cycles"] else None)
              for w in words]
    stored = query("""select recency_word, up_to_days, purchase_cycle_days from intermediate.int_snapshot_recency_words
                      where snapshot_date = (select max(as_of_date) from marts.customer_segments) order by word_order""").fetchall()
    assert [(w, None if d is None else int(d)) for w, d, _ in stored] == bounds
    assert stored[0][2] == cycle
    customers = query("select recency_days, recency_word from marts.customer_segments").df()
    expected = [next(w for w, d in bounds if d is None or r <= d) for r in customers["recency_days"]]
    assert list(customers["recency_word"]) == expected
    assert set(expected) == {"Recent", "Lapsing", "Dormant"}


def test_named_segments_follow_the_map(query):
    customers = query("select r_score, f_score, m_score, fm_score, recency_word, named_segment from marts.customer_segments").df()
    segment_of = {(int(r["r_score"]), int(r["fm_score"])): r["named_segment"] for r in read_seed("rfm_named_segment_map")}
    r_range = {w["recency_word"]: (int(w["min_r_score"]), int(w["max_r_score"])) for w in read_seed("recency_words")}
    expected_fm = [fm_score(f, m) for f, m in zip(customers["f_score"], customers["m_score"])]
    assert list(customers["fm_score"]) == expected_fm
    # r_score clamped into the recency word's range: a Dormant customer is never "About to Sleep"
    clamped = [min(max(r, r_range[w][0]), r_range[w][1]) for r, w in zip(customers["r_score"], customers["recency_word"])]
    expected = [segment_of[(r, fm)] for r, fm in zip(clamped, expected_fm)]
    assert list(customers["named_segment"]) == expected
    assert clamped != list(customers["r_score"])  # the clamp matters on this data
    dormant = customers[customers["recency_word"] == "Dormant"]
    assert set(dormant["named_segment"]) <= {"Lost", "Hibernating", "At Risk", "Can't Lose Them"}
    assert customers["named_segment"].nunique() >= 8  # the sample's customers spread over the map


def test_named_segment_profiles_list_every_segment_and_add_up(query):
    profiles = query("select * from marts.named_segment_profiles order by segment_order").df()
    assert set(profiles["named_segment"]) == CLASSIC_SEGMENTS
    total, revenue = query("select count(*), sum(monetary) from marts.customer_segments").fetchone()
    assert profiles["customers"].sum() == total
    assert query("select sum(revenue) from marts.named_segment_profiles").fetchone()[0] == revenue  # exact decimals
    assert profiles["customer_share"].sum() == pytest.approx(1)
    champions = profiles.iloc[0]
    assert champions["named_segment"] == "Champions"
    assert champions["mean_monetary"] > profiles.set_index("named_segment").loc["Lost", "mean_monetary"]


def test_lens_comparison_rolls_up_to_tier_x_cluster(query):
    rolled = query(
        "select tier, cluster_id, sum(customers), sum(revenue) from marts.segment_lens_comparison group by 1, 2 order by 1, 2"
    ).fetchall()
    direct = query(
        "select tier, cluster_id, customers, revenue from marts.tier_cluster_comparison order by 1, 2"
    ).fetchall()
    assert rolled == direct
    shares = query("select sum(share_of_customers), sum(share_of_revenue) from marts.segment_lens_comparison").fetchone()
    assert shares == pytest.approx((1, 1))
    assert query("select count(*) from marts.segmentation_agreement").fetchone()[0] == 3


def test_stability_is_recorded_and_flagged_in_the_profiles(query):
    stability = query("select * from clustering.cluster_stability order by cluster_id").df()
    profiles = query("select cluster_id, stability_jaccard, is_stable from marts.segment_profiles order by cluster_id").df()
    assert list(stability["cluster_id"]) == list(profiles["cluster_id"])
    np.testing.assert_allclose(profiles["stability_jaccard"], stability["mean_jaccard"])
    assert list(profiles["is_stable"]) == list(profiles["stability_jaccard"] >= STABLE_JACCARD)
    assert stability["mean_jaccard"].between(0, 1).all()
    assert (stability["n_resamples"] == 20).all()
    assert stability["refit_ari_mean"].nunique() == 1 and -0.5 <= stability["refit_ari_mean"].iloc[0] <= 1


def test_per_customer_silhouettes_are_those_of_the_served_clusters(query):
    # Few customers: the silhouette sample holds everyone, so the per-customer values must be
    # scikit-learn's silhouettes of today's (served) clusters, in the standardised log space.
    from sklearn.metrics import silhouette_samples

    today = query("select customer_id, cluster_id, recency_days, frequency, monetary from marts.customer_segments "
                  "order by customer_id").df()
    values = query("select customer_id, cluster_id, silhouette from clustering.cluster_silhouette_values "
                   "order by customer_id").df()
    assert values["customer_id"].tolist() == today["customer_id"].tolist()
    assert values["cluster_id"].tolist() == today["cluster_id"].tolist()
    logs = np.log1p(today[["recency_days", "frequency", "monetary"]].to_numpy(float))
    X = (logs - logs.mean(axis=0)) / logs.std(axis=0)
    np.testing.assert_allclose(values["silhouette"], silhouette_samples(X, today["cluster_id"]), atol=1e-9)


def test_summary_prints_the_evidence(sample_db, tmp_path):
    result = run_pipeline(sample_db.parent, "summary", db_name=sample_db.name)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    evidence = next(line for line in lines if line.startswith("Evidence:"))
    assert "silhouette" in evidence and "refits" in evidence and "ARI" in evidence
    assert any(line.startswith("K-Means clusters: k=") for line in lines)
    assert any(line.startswith("Named RFM segments vs tiers: ARI") for line in lines)
