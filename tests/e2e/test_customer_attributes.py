"""Customer attributes (docs/customer-attributes.md) end to end: the real Online Retail invoices
with a seeded CRM file whose frequent buyers are planted (aged 25-34 and nurses, 70% each),
plus bad rows; the same invoices without it; the generated sample without it (country only)."""
from __future__ import annotations

import csv

import duckdb
import pandas as pd
import pytest

from conftest import build, run_pipeline, shared_data
from rfm_segments.sample_crm import generate_customer_attributes
from test_pipeline import mart_digest

#: Appended to the generated file: every copy of a duplicated id and the row without one are
#: quarantined; an id with no sale is reported.
DUPLICATED_ID = "12347"
UNKNOWN_ID = "99999"
#: Appended last: lines the CSV reader cannot split, quarantined as malformed_line (file lines 4343, 4344).
MALFORMED_LINES = ['12349,"a stray "quote,F,x,1,north,yes', '12348,40,F,"nurse ""o\'neil""",1,north,yes,too,many']
MALFORMED_LINE_NUMBERS = [4343, 4344]
#: Marts that gain the distinguishing_attributes column; the rest must not change at all.
WITH_ATTRIBUTE_COLUMN = {"marts.segment_profiles", "marts.named_segment_profiles"}
#: The marts made from the attributes file: the only ones a build without it may change whole.
FROM_THE_FILE = {"marts.segment_attribute_profiles", "marts.segment_attribute_highlights",
                 "marts.rejected_customer_attributes"}


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crm")
    path = folder / "crm.csv"
    planted = generate_customer_attributes(shared_data("online_retail_invoices.csv"), path, seed=7)
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([DUPLICATED_ID, 40, "F", "teacher", 30000, "north", "yes"])
        writer.writerow(["", 50, "M", "artist", 20000, "south", "no"])
        writer.writerow([UNKNOWN_ID, 60, "M", "artist", 20000, "south", "no"])
        handle.write("".join(line + "\r\n" for line in MALFORMED_LINES))  # the csv module's line ends
    return path, planted


@pytest.fixture(scope="module")
def db(tmp_path_factory, crm):
    return build(tmp_path_factory.mktemp("with_crm"), "--data", str(shared_data("online_retail_invoices.csv")),
                 "--customers", str(crm[0]))


@pytest.fixture(scope="module")
def published(db):
    return db.parent / "serving" / "segments.duckdb"


def frame(db, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def test_the_planted_attributes_are_what_distinguishes_the_frequent_buyers(published, crm):
    _, planted = crm
    segments = frame(published, "select customer_id, cluster_id, segment_name, named_segment, tier, "
                                "distinguishing_attributes from marts.customer_segments "
                                "join marts.segment_profiles using (cluster_id, segment_name)")
    segments["planted"] = segments["customer_id"].isin(planted.planted_ids)
    richest = segments.groupby("segment_name")["planted"].mean().idxmax()
    ranked = frame(published, "select lens, segment, attribute_name, attribute_value, distinguishing_rank "
                              "from marts.segment_attribute_profiles where distinguishing_rank is not null "
                              "order by lens, segment, distinguishing_rank")
    top = ranked[(ranked.lens == "cluster") & (ranked.segment == richest)]
    assert list(top.attribute_name[:2]) == ["occupation", "age"]
    assert top.attribute_value.iloc[0] == "nurse"
    low, high = (int(x) for x in top.attribute_value.iloc[1].split("-"))  # a bin such as '29-38'
    assert low <= 34 and high >= 25
    text = segments.loc[segments.segment_name == richest, "distinguishing_attributes"].iloc[0]
    assert text.startswith("over-represented: occupation nurse (x") and ", age " in text
    champions = ranked[(ranked.lens == "named_segment") & (ranked.segment == "Champions")]
    assert list(champions.attribute_name[:2]) == ["occupation", "age"]
    # nothing was planted in gender, region, newsletter or income: no segment is told apart by them
    assert not set(ranked.attribute_name) & {"gender", "region", "newsletter", "income"}


def test_shares_index_and_statistics_equal_pandas(db, published):
    attributes = frame(db, "select customer_id, attribute_name, attribute_type, attribute_value, value_number "
                           "from intermediate.int_customer_attributes")
    members = frame(published, "select customer_id, segment_name from marts.customer_segments")
    profiles = frame(published, "select * from marts.segment_attribute_profiles where lens = 'cluster'")
    assert dict(attributes.groupby("attribute_name").attribute_type.first()) == {
        "age": "numeric", "income": "numeric", "country": "categorical", "gender": "categorical",
        "occupation": "categorical", "region": "categorical", "newsletter": "categorical"}
    joined = attributes.merge(members, on="customer_id")
    overall = attributes.groupby(["attribute_name", "attribute_value"]).size() / len(members)
    cells = joined.groupby(["segment_name", "attribute_name", "attribute_value"]).size()
    sizes = members.groupby("segment_name").size()
    shown = profiles[~profiles.is_suppressed].set_index(["segment", "attribute_name", "attribute_value"])
    assert len(shown) > 50
    for (segment, name, value), row in shown.iterrows():
        share = cells.get((segment, name, value), 0) / sizes[segment]
        assert row.share_in_segment == pytest.approx(share)
        assert row.over_representation_index == pytest.approx(share / overall[(name, value)])
    ages = joined[joined.attribute_name == "age"].groupby("segment_name").value_number
    for segment, row in profiles[profiles.attribute_name == "age"].groupby("segment").first().iterrows():
        assert row.mean_value == pytest.approx(ages.mean()[segment])
        assert row.median_value == pytest.approx(ages.median()[segment])
        assert row.p25_value == pytest.approx(ages.quantile(0.25)[segment])
    # numeric bins: equal-count bins of all customers (5 by default), '(missing)' apart
    age_bins = attributes[(attributes.attribute_name == "age") & (attributes.attribute_value != "(missing)")]
    assert age_bins.attribute_value.nunique() == 5
    assert (age_bins.groupby("attribute_value").size() / len(age_bins)).between(0.15, 0.25).all()


def test_small_groups_are_suppressed_and_no_personal_row_is_published(published):
    profiles = frame(published, "select * from marts.segment_attribute_profiles")
    shown = profiles[~profiles.is_suppressed]
    assert not shown.value_customers.between(1, 9).any() and (shown.segment_customers >= 10).all()
    hidden = profiles[profiles.is_suppressed]
    assert len(hidden) > 0 and hidden[["value_customers", "share_in_segment", "over_representation_index"]].isna().all().all()
    with duckdb.connect(str(published), read_only=True) as con:
        tables = {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}
        columns = {table: {name for (name,) in con.execute(
            "select column_name from duckdb_columns() where table_name = ?", [table]).fetchall()}
            for table in ("segment_attribute_profiles", "rejected_customer_attributes")}
    assert not {"int_customer_attributes", "stg_crm__customer_attributes"} & tables
    assert not {"customer_id", "value_number", "attribute_value_text"} & columns["segment_attribute_profiles"]
    assert columns["rejected_customer_attributes"] == {"read_order", "line_number", "customer_id", "reject_reason",
                                                       "reason_description"}


def test_bad_rows_are_quarantined_with_reasons(db, published):
    rejected = frame(published, "select customer_id, reject_reason from marts.rejected_customer_attributes "
                                "order by read_order")
    assert sorted(map(tuple, rejected.fillna("").values.tolist())) == [
        ("", "malformed_line"), ("", "malformed_line"),
        ("", "missing_customer_id"), (DUPLICATED_ID, "duplicate_customer_id"),
        (DUPLICATED_ID, "duplicate_customer_id"), (UNKNOWN_ID, "unknown_customer_id")]
    # the reasons' wording is the seed's; a malformed line is named by its line, its text stays in staging
    described = frame(published, "select reject_reason, reason_description, line_number from marts.rejected_customer_attributes "
                                 "where reject_reason = 'malformed_line' order by line_number")
    seed = frame(db, "select description from reference.customer_attribute_reject_reasons where reason = 'malformed_line'")
    assert list(described.line_number) == MALFORMED_LINE_NUMBERS
    assert set(described.reason_description) == set(seed.description)
    raw = frame(db, "select line_number, raw_line from staging.stg_crm__malformed_lines order by line_number")
    assert [line.strip() for line in raw.raw_line] == MALFORMED_LINES and list(raw.line_number) == MALFORMED_LINE_NUMBERS
    duplicated = frame(db, f"select distinct attribute_value from intermediate.int_customer_attributes "
                           f"where customer_id = '{DUPLICATED_ID}' and attribute_name <> 'country'")
    assert list(duplicated.attribute_value) == ["(missing)"]


def test_without_the_file_the_other_marts_are_unchanged(db, tmp_path):
    without = build(tmp_path, "--data", str(shared_data("online_retail_invoices.csv")))
    digest_without, digest_with = mart_digest(without), mart_digest(db)
    assert FROM_THE_FILE <= digest_with.keys()
    for mart in digest_with.keys() - WITH_ATTRIBUTE_COLUMN - FROM_THE_FILE:
        assert digest_without[mart] == digest_with[mart], mart
    for mart in WITH_ATTRIBUTE_COLUMN:
        assert frame(without, f"select * exclude (distinguishing_attributes) from {mart} order by all").equals(
            frame(db, f"select * exclude (distinguishing_attributes) from {mart} order by all"))
    names = frame(without, "select distinct attribute_name from marts.segment_attribute_profiles")
    assert list(names.attribute_name) == ["country"]


def test_sample_without_a_file_profiles_by_country(sample_db):
    profiles = frame(sample_db, "select * from marts.segment_attribute_profiles")
    customers = frame(sample_db, "select country from marts.customer_segments")
    assert set(profiles.attribute_name) == {"country"} and set(profiles.lens) == {"cluster", "tier", "named_segment"}
    counts = customers.country.fillna("(missing)").value_counts()
    pooled = counts[counts < 10].sum()
    overall = profiles.groupby("attribute_value").share_overall.first()
    for country, count in counts[counts >= 10].items():
        assert overall[country] == pytest.approx(count / len(customers))
    assert ("(other)" in overall.index) == (pooled > 0)
    tiers = profiles[profiles.lens == "tier"].groupby("segment").segment_customers.first()
    assert tiers.sum() == len(customers)


@pytest.mark.parametrize("content, message", [
    (b"crm_no,age\n1,30\n", "missing required column customer_id in crm.csv; columns found: crm_no, age"),
    (b"", "input file is empty"),
    ("CustomerID,age\n12347,30\n".encode("utf-16"), "crm.csv is UTF-16 text"),
])
def test_a_bad_file_is_one_line_before_dbt(tmp_path, content, message):
    bad = tmp_path / "crm.csv"
    bad.write_bytes(content)
    result = run_pipeline(tmp_path, "run", "--data", str(shared_data("online_retail_invoices.csv")),
                          "--customers", str(bad))
    assert result.returncode == 1 and "==> dbt" not in result.stdout
    assert result.stderr.count("\n") == 1 and message in result.stderr


# ---------------------------------------------------------------- clustering on behaviour + attributes

#: The invoices' as-of date (the day after the last sale), their last snapshot.
AS_OF = "2011-12-10"


@pytest.fixture(scope="module")
def clustered_db(tmp_path_factory):
    """The docs' setup: the invoices, the generated CRM file as is, --cluster-on-attributes; and a
    refit asked at the as-of date, so that the model version serving today is fitted on today's
    customers, as the fresh fit is."""
    folder = tmp_path_factory.mktemp("clustered")
    crm_file = folder / "crm.csv"
    generate_customer_attributes(shared_data("online_retail_invoices.csv"), crm_file, seed=7)
    return build(folder, "--data", str(shared_data("online_retail_invoices.csv")), "--customers", str(crm_file),
                 "--cluster-on-attributes", "--vars", f"{{history_refit_dates: ['{AS_OF}']}}")


def test_clustering_on_attributes_records_the_features_and_the_missing_values(clustered_db):
    features = frame(clustered_db.parent / "serving" / "segments.duckdb",
                     "select * from clustering.cluster_attribute_features order by feature_column")
    missing = frame(clustered_db, "select attribute_name, count(case when attribute_value = '(missing)' then 1 end) as n "
                                  "from intermediate.int_customer_attributes group by 1").set_index("attribute_name").n
    assert set(features.attribute_name) == {"age", "income", "gender", "occupation", "region", "newsletter", "country"}
    assert sorted(features.loc[features.attribute_name == "occupation", "category"]) == [
        "artist", "engineer", "manager", "nurse", "retail", "retired", "student", "teacher"]
    for name, rows in features.groupby("attribute_name"):
        assert set(rows.missing_customers) == {missing[name]}, name
    assert missing["age"] > 100 and (features.weight == 1).all()
    # the invoices have no country: an attribute without any value, recorded without a feature column
    assert features.loc[features.attribute_name == "country", "feature_column"].isna().all()
    report = (clustered_db.parent / "segments_report.html").read_text(encoding="utf-8")
    assert "occupation (8 features, 0 missing)" in report and f"age (1 feature, {missing['age']:,} missing)" in report


def test_clustering_on_attributes_is_only_different_as_the_docs_table_says(clustered_db, db):
    """docs/customer-attributes.md's table is what `attribute_evidence --write-docs` gives on this build,
    and the build's own k evidence is that table's row."""
    from rfm_segments.attribute_evidence import DOCS, compare, docs_table, markdown

    table = compare(clustered_db)
    assert docs_table(DOCS.read_text(encoding="utf-8")) == markdown(table)
    rows = table.set_index("features")
    behaviour, both = rows.loc["behaviour"], rows.loc["behaviour + attributes, weight 1"]
    built = frame(clustered_db, "select * from clustering.cluster_k_evaluation where is_chosen").iloc[0]
    for column in ("silhouette", "stability_min_jaccard", "backtest_explained_share"):
        assert built[column] == pytest.approx(both[column]), column
    assert behaviour.ari_with_behaviour_only == 1.0 and 0.8 < both.ari_with_behaviour_only < 0.99
    assert abs(both.backtest_explained_share - behaviour.backtest_explained_share) < 0.01
    assert abs(both.backtest_rebuy_spread - behaviour.backtest_rebuy_spread) < 0.02
    assert both.silhouette < behaviour.silhouette


def test_the_served_segments_cluster_on_the_attributes_as_the_fresh_fit_does(clustered_db, db):
    """The SQL scoring with the stored attribute encoding and centres gives today's customers the
    clusters of the fresh fit on behaviour + attributes (the version serving today was fitted on
    the same customers; its ids are matched to the previous version's, so compared up to renumbering)."""
    from sklearn.metrics import adjusted_rand_score

    published = clustered_db.parent / "serving" / "segments.duckdb"
    checks = frame(published, "select cast(snapshot_date as varchar) as d, action, model_version "
                              "from marts.model_retraining_checks order by snapshot_date")
    assert checks.d.iloc[-1] == AS_OF and checks.action.iloc[-1].startswith("refit asked")
    serving = checks.model_version.iloc[-1]
    today = frame(published, "select customer_id, segments.cluster_id as served, segments.model_version, "
                             "fresh.cluster_id as fresh from marts.customer_segments as segments "
                             "join clustering.customer_clusters as fresh using (customer_id)")
    assert len(today) > 4000 and set(today.model_version) == {serving}
    pairs = today.groupby(["served", "fresh"]).size().reset_index(name="customers")
    best = pairs.sort_values("customers").groupby("served").tail(1)  # each served cluster's fresh cluster
    assert best.fresh.is_unique and len(best) == today.fresh.nunique()  # one to one
    assert best.customers.sum() / len(today) > 0.999
    # the version records its attribute dimensions: every feature of the fresh fit, for each cluster
    centres = frame(published, f"select * from clustering.cluster_model_attribute_centres where model_version = {serving}")
    features = frame(published, "select * from clustering.cluster_attribute_features where feature_column is not null")
    assert len(centres) == len(features) * today.served.nunique()
    assert set(zip(centres.attribute_name, centres.attribute_category.fillna(""))) == set(
        zip(features.attribute_name, features.category.fillna("")))
    # ...and they moved the served segments away from the behaviour-only build's
    behaviour = frame(db, "select customer_id, cluster_id as behaviour from marts.customer_segments")
    assert adjusted_rand_score(*today.merge(behaviour, on="customer_id")[["served", "behaviour"]].T.values) < 0.99


def test_with_attributes_the_history_stability_and_backtest_marts_are_built(clustered_db):
    published = clustered_db.parent / "serving" / "segments.duckdb"
    counts = frame(published, """
        select (select count(*) from marts.customer_segment_history where cluster_id is not null) as history,
               (select count(distinct model_version) from clustering.cluster_model_attribute_centres) as versions,
               (select count(distinct model_version) from clustering.cluster_model_versions) as all_versions,
               (select count(*) from marts.segment_migration where lens = 'cluster') as migration,
               (select count(*) from marts.segment_backtest) as backtest,
               (select count(*) from clustering.cluster_stability) as stability""").iloc[0]
    assert counts.history > 10_000 and counts.versions == counts.all_versions >= 2
    assert (counts[["migration", "backtest", "stability"]] > 0).all()
