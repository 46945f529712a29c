"""The same dbt project on DuckDB and on Spark gives the same answers (docs/spark.md).

One `run --engine spark` (through the session's Spark Connect server: the SQL models by dbt,
the dbt Python models as steps, published for BI) and one DuckDB `run` of the same files
(tests/spark/conftest.py: the shared Online Retail sample with malformed lines and a text
customer id ending in zeros, and a customer attributes file with a duplicated id, a row without
one, an unknown id and a malformed line). Every public mart both publish (the manifest's
registry) is compared whole: columns, types, row counts and every value, money exactly; the
tests below pin the values that matter by name.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import REPO
from spark_inputs import MALFORMED_LINES

pytest.importorskip("pyspark", reason="the Spark extra is not installed (`make test` installs it)")
pytestmark = pytest.mark.spark


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine-neutral values: timestamps as naive UTC, whole numbers as int, NaN as None."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_integer_dtype(series.dtype):
            series = series.astype("int64")
        out[column] = series.astype(object).where(series.notna(), None)
    return out


def published(run, table: str, columns: list[str]) -> pd.DataFrame:
    """`columns` of a published table (the serving DuckDB file BI reads)."""
    with duckdb.connect(str(run.serving_db), read_only=True) as con:
        return normalised(con.sql(f"select {', '.join(columns)} from {table}").arrow().read_all().to_pandas())


def rows(frame: pd.DataFrame) -> list[tuple]:
    return sorted((tuple(row) for row in frame.itertuples(index=False)), key=repr)


def assert_same(spark_run, duckdb_run, table: str, exact: list[str], close: list[str] = ()) -> pd.DataFrame:
    """Every row of `table` on both engines: `exact` columns equal, `close` to 1e-9 relative."""
    on_spark = published(spark_run, table, [*exact, *close])
    on_duckdb = published(duckdb_run, table, [*exact, *close])
    assert len(on_spark) == len(on_duckdb), f"{table}: {len(on_spark)} rows on Spark, {len(on_duckdb)} on DuckDB"
    assert rows(on_spark[exact]) == rows(on_duckdb[exact]), f"{table}: the engines differ"
    if close:
        merged = on_spark.merge(on_duckdb, on=exact, suffixes=("_spark", "_duckdb"))
        assert len(merged) == len(on_spark)
        for column in close:
            for a, b in zip(merged[f"{column}_spark"], merged[f"{column}_duckdb"]):
                assert (a is None and b is None) or math.isclose(float(a), float(b), rel_tol=1e-9), (table, column, a, b)
    return on_spark


#: Columns that differ between the engines by design (docs/spark.md), never compared.
NOT_COMPARED = {
    ("marts.rejected_transactions", "reader_error"): "each CSV reader words its own error",
    ("marts.clv_fit_status", "fit_seconds"): "a timing",
}


#: Documented rounding rules that differ (docs/spark.md): a double derived from dividing decimals
#: (averages, shares, CLV inputs) is computed by Spark in decimals kept to 6 places, by DuckDB as
#: a double, so they agree to 1e-6 relative (5e-7 absolute); a median of money keeps the cents on
#: DuckDB and the half cent on Spark: equal to the cent.
DOUBLE_TOLERANCE = {"rel_tol": 1e-6, "abs_tol": 5e-7}
TO_THE_CENT = {("marts.segment_profiles", "median_monetary"): {"rel_tol": 0, "abs_tol": 0.005 + 1e-9}}


def public_marts(run) -> list:
    from rfm_segments.bi_registry import public_models

    return list(public_models(run.target))


def published_columns(run, mart) -> list[tuple[str, str]]:
    """(column, type) of a published mart, in order."""
    with duckdb.connect(str(run.serving_db), read_only=True) as con:
        return con.execute("select column_name, data_type from information_schema.columns "
                           "where table_schema = ? and table_name = ? order by ordinal_position",
                           [mart.schema, mart.name]).fetchall()


def same_columns(on_spark: list[tuple[str, str]], on_duckdb: list[tuple[str, str]]) -> bool:
    """Names and types equal; a DuckDB column of type NULL (a dbt Python model's empty frame, e.g.
    cluster_attribute_features without cluster_on_attributes) has no type to compare."""
    return [name for name, _ in on_spark] == [name for name, _ in on_duckdb] and all(
        a == b or b == '"NULL"' for (_, a), (_, b) in zip(on_spark, on_duckdb))


def differences(table: str, on_spark: pd.DataFrame, on_duckdb: pd.DataFrame) -> list[str]:
    """Every row of one table on both engines, sorted: floats as DOUBLE_TOLERANCE (TO_THE_CENT), the rest exactly."""
    if sorted(on_spark.columns) != sorted(on_duckdb.columns):
        return [f"{table}: columns {sorted(on_spark.columns)} on Spark, {sorted(on_duckdb.columns)} on DuckDB"]
    if len(on_spark) != len(on_duckdb):
        return [f"{table}: {len(on_spark)} rows on Spark, {len(on_duckdb)} on DuckDB"]
    columns = list(on_duckdb.columns)
    floats = [c for c in columns if any(isinstance(v, float) for v in on_duckdb[c]) or any(isinstance(v, float) for v in on_spark[c])]
    exact = [c for c in columns if c not in floats]

    def key(row: tuple) -> tuple:
        return tuple((v is None, repr(v) if not isinstance(v, float) else f"{v:.6g}") for v in row)

    found = []
    spark_rows = sorted(on_spark[exact + floats].itertuples(index=False, name=None), key=key)
    duckdb_rows = sorted(on_duckdb[exact + floats].itertuples(index=False, name=None), key=key)
    for spark_row, duckdb_row in zip(spark_rows, duckdb_rows):
        for column, a, b in zip(exact + floats, spark_row, duckdb_row):
            same = (a is None and b is None) or (
                a is not None and b is not None and (
                    math.isclose(float(a), float(b), **TO_THE_CENT.get((table, column), DOUBLE_TOLERANCE))
                    if column in floats else a == b))
            if not same:
                found.append(f"{table}.{column}: {a!r} on Spark, {b!r} on DuckDB (row {dict(zip(exact, duckdb_row))})")
                break
        if len(found) >= 3:
            break
    return found


def test_the_comparison_sees_every_kind_of_difference():
    """differences() itself: a changed value, float beyond 1e-9, a lost row, a renamed column."""
    base = pd.DataFrame({"id": ["a", "b"], "money": [Decimal("1.00"), Decimal("2.50")], "share": [0.25, 0.75]})

    def compare(on_spark: pd.DataFrame) -> list[str]:
        return differences("t", normalised(on_spark), normalised(base))

    assert compare(base.iloc[::-1]) == []
    assert compare(base.assign(share=[0.25, 0.75 * (1 + 1e-7)])) == []
    assert compare(base.assign(money=[Decimal("1.00"), Decimal("2.51")]))
    assert compare(base.assign(share=[0.25, 0.75001]))
    assert compare(base.assign(id=["a", None]))
    assert compare(base.iloc[:1]) == ["t: 1 rows on Spark, 2 on DuckDB"]
    assert compare(base.rename(columns={"share": "ratio"}))


def test_the_spark_run_publishes_every_public_mart(spark_run, duckdb_run):
    """The gate passed: the Spark build made every public mart, and BI got all of them."""
    marts = public_marts(duckdb_run)
    assert len(marts) >= 31
    with duckdb.connect(str(spark_run.serving_db), read_only=True) as con:
        tables = {f"{schema}.{name}" for schema, name in con.execute(
            "select table_schema, table_name from serving.publication").fetchall()}
    assert tables == {mart.relation for mart in marts}
    assert "Published for BI" in spark_run.output and "Not published" not in spark_run.output


def test_every_public_mart_agrees(spark_run, duckdb_run):
    """All the models BI reads (the manifest's public models, rfm_segments.bi_registry): columns
    and their types, row counts and every value."""
    found = []
    for mart in public_marts(duckdb_run):
        columns = published_columns(duckdb_run, mart)
        if not same_columns(published_columns(spark_run, mart), columns):
            found.append(f"{mart.relation}: columns {published_columns(spark_run, mart)} on Spark, {columns} on DuckDB")
            continue
        compared = [name for name, _ in columns if (mart.relation, name) not in NOT_COMPARED]
        found += differences(mart.relation, published(spark_run, mart.relation, compared),
                             published(duckdb_run, mart.relation, compared))
    assert not found, "\n".join(found)


def test_outcomes_and_reject_reasons_agree(spark_run, duckdb_run):
    summary = assert_same(spark_run, duckdb_run, "marts.data_quality_summary", ["outcome", "precedence", "rows"], ["share"])
    counts = dict(zip(summary["outcome"], summary["rows"]))
    assert counts["malformed_line"] == len(MALFORMED_LINES)
    assert counts["missing_customer"] > 0 and counts["cancellation"] > 0


def test_rejected_lines_agree(spark_run, duckdb_run):
    rejected = assert_same(spark_run, duckdb_run, "marts.rejected_transactions",
                           ["reject_reason", "invoice_id", "stock_code", "description", "quantity", "unit_price",
                            "amount", "invoiced_at", "customer_id", "country", "raw_line", "line_number"])
    malformed = rejected[rejected["reject_reason"] == "malformed_line"]
    assert sorted(malformed["raw_line"]) == sorted(MALFORMED_LINES)
    # the file's line numbers on both engines (a file Spark reads in one partition): header = 1
    assert sorted(malformed["line_number"]) == [302, 303]


def test_rfm_values_and_money_agree_exactly(spark_run, duckdb_run):
    rfm = assert_same(spark_run, duckdb_run, "marts.customer_rfm",
                      ["customer_id", "country", "first_purchase_date", "last_purchase_date", "recency_days",
                       "frequency", "monetary", "tenure_days", "average_order_value", "cancelled_value", "as_of_date"])
    text_id = rfm[rfm["customer_id"] == "12900"]
    assert list(text_id["monetary"]) == [Decimal("6.70")], "customer '12900' lost its zeros"
    assert not (rfm["customer_id"] == "12").any()


def test_scores_tiers_segments_and_clusters_agree(spark_run, duckdb_run):
    tiers = assert_same(spark_run, duckdb_run, "marts.customer_rfm_tiers",
                        ["customer_id", "r_score", "f_score", "m_score", "rfm_score", "tier_rank", "tier"])
    assert set(tiers["tier"]) == {"Platinum", "Gold", "Silver", "Bronze"}
    segments = assert_same(spark_run, duckdb_run, "marts.customer_segments",
                           ["customer_id", "named_segment", "cluster_id", "segment_name"])
    assert segments["named_segment"].nunique() > 3 and segments["cluster_id"].nunique() >= 2
    evaluation = assert_same(spark_run, duckdb_run, "clustering.cluster_k_evaluation",
                             ["k", "is_chosen", "choice_reason", "n_customers"],
                             ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"])
    assert evaluation["is_chosen"].sum() == 1


def test_customer_attribute_rejects_and_profiles_agree(spark_run, duckdb_run):
    rejected = assert_same(spark_run, duckdb_run, "marts.rejected_customer_attributes",
                           ["read_order", "line_number", "customer_id", "reject_reason"])
    reasons = rejected.groupby("reject_reason")["customer_id"].apply(lambda ids: sorted(map(str, ids))).to_dict()
    assert reasons["duplicate_customer_id"] == ["12347", "12347"] and reasons["missing_customer_id"] == ["None"]
    assert "99999" in reasons["unknown_customer_id"]  # with the sample's customers who have no valid sale
    assert reasons["malformed_line"] == ["None"]  # CRM_MALFORMED_LINE, quarantined by both readers
    highlights = assert_same(spark_run, duckdb_run, "marts.segment_attribute_highlights",
                             ["lens", "segment", "distinguishing_attributes"])
    assert highlights["distinguishing_attributes"].str.startswith("over-represented: ").all()


def without_timings(summary: str) -> str:
    """The summary without the seconds a fit took (the CLV line's '(..., 85 s)')."""
    return re.sub(r", \d+ s\)", ", N s)", summary)


def test_the_spark_run_ends_with_the_duckdb_runs_summary_and_a_report(spark_run, duckdb_run):
    """`run --engine spark` ends as `run` does: the same summary (read from the publication), and the report."""
    assert "Built RFM segments" in duckdb_run.output
    duckdb_summary = without_timings(duckdb_run.output[duckdb_run.output.index("Built RFM segments"):])
    spark_summary = without_timings(spark_run.output[spark_run.output.index("Built RFM segments"):])
    compared = [line for line in duckdb_summary.splitlines()
                if line.strip() and not line.startswith(("Published build:", "Published for BI", "Report:", "  "))]
    assert len(compared) > 5
    assert [line for line in compared if line not in spark_summary] == []
    assert "Spark (spark_connect) build times" in spark_summary
    report = spark_run.work / "segments_report.html"
    assert report.exists() and "Recent" in report.read_text()


def values_on_both_engines(spark_server, duckdb_run, tmp_path, expressions: list[str]) -> tuple[list, list]:
    """Each dbt-compiled SQL expression (Jinja) evaluated on Spark (dbt show through Spark Connect)
    and on DuckDB, in order."""
    inline = " union all ".join(f"select {n} as n, {expression} as v" for n, expression in enumerate(expressions))
    query = f"select v from ({inline}) order by n"
    dbt = str(Path(sys.executable).with_name("dbt"))
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), DBT_TARGET_PATH=str(tmp_path / "target"),
               DBT_LOG_PATH=str(tmp_path / "logs"), SPARK_REMOTE=spark_server.connect_url)
    shown = subprocess.run([dbt, "show", "--target", "spark_connect", "--inline", query, "--limit", str(len(expressions)),
                            "--output", "json", "--quiet"], cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-2000:]
    on_spark = [row["v"] for row in json.loads(shown.stdout[shown.stdout.index("{"):])["show"]]
    env.pop("SPARK_REMOTE")
    compiled = subprocess.run([dbt, "compile", "--quiet", "--inline", query], cwd=REPO / "dbt_project",
                              env=dict(env, SEGMENTS_DB=str(duckdb_run.work / "segments.duckdb")),
                              capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stdout[-2000:]
    return on_spark, [row[0] for row in duckdb.sql(compiled.stdout).fetchall()]


def test_customer_ids_and_dates_parse_alike_on_both_engines(spark_server, duckdb_run, tmp_path):
    """Macro normalize_customer_id ('[.]0+$', not '\\.0+$', which Spark reads as '.0+$') and var
    raw_date_format (strptime) as DuckDB reads it and, translated, as Spark reads it."""
    ids = ["12900", "12900.0", "12923.00", "00120", "12900.5", " 12900 "]
    dates = [("09/12/2011 08:05", "%d/%m/%Y %H:%M"), ("2011-12-09T08:05:07", "%Y-%m-%dT%H:%M:%S"),
             ("20111209", "%Y%m%d"), ("31/02/2011 08:05", "%d/%m/%Y %H:%M"), ("not a date", "%d/%m/%Y")]
    on_spark, on_duckdb = values_on_both_engines(
        spark_server, duckdb_run, tmp_path,
        [f"{{{{ normalize_customer_id(\"'{value}'\") }}}}" for value in ids]
        + [f"cast({{{{ parse_timestamp(\"'{text}'\", '{fmt}') }}}} as {{{{ dbt.type_string() }}}})" for text, fmt in dates])
    assert on_spark == on_duckdb == ["12900", "12900", "12923", "00120", "12900.5", "12900",
                                     "2011-12-09 08:05:00", "2011-12-09 08:05:07", "2011-12-09 00:00:00", None, None]
