"""The two contenders the benchmark times against our dbt build, and the k-selection probe.

    python bench/contenders.py notebook --data FILE --out rfm.parquet --k K
    python bench/contenders.py pandas  --data FILE --out rfm.parquet [--silhouette-limit N]
    python bench/contenders.py floor   --data FILE --out rfm.parquet --k K
    python bench/contenders.py kselect --customers 1000000

`notebook` is the bare notebook a user would write instead of this product: pandas reads the
file, applies the same cleaning rules, computes RFM and tiers and fits one K-Means (k given).
`pandas` is the full-featured pandas path (tests/pandas_reference.py: every reject reason,
the k sweep with silhouettes). Each runs in its own process (run_bench.py measures its wall time and peak memory from the
outside) and prints one JSON line with its phase timings last. `pandas` and `floor` write
customer_id, recency_days, frequency, monetary, r/f/m_score, rfm_score, tier to --out for
the equality check.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from rfm_segments.clustering import choose_k, evaluate_k, fit_clusters
from rfm_segments.project_vars import EVALUATE_K, arguments, project_vars

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the pandas contender is the tests' independent oracle
import pandas_reference  # noqa: E402

#: The build's parameters (dbt_project.yml vars): the contenders fit as the build does.
VARS = project_vars()
NON_PRODUCT_SEED = REPO / "dbt_project" / "seeds" / "non_product_stock_codes.csv"
RESULT_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary",
                  "r_score", "f_score", "m_score", "rfm_score", "tier"]

# The floor: the same definitions as the dbt models (typing, reject rules, exact-copy
# duplicates, as-of date, quartile scores and tiers) in one query, no intermediate tables,
# no quarantine, no tests. Only valid lines matter for RFM, so duplicates are a DISTINCT.
FLOOR_SQL = r"""
COPY (
with lines as (
    select
        nullif(trim(InvoiceNo), '') as invoice_id,
        upper(nullif(trim(StockCode), '')) as stock_code,
        trim(Description) as description,
        try_cast(nullif(trim(Quantity), '') as bigint) as quantity,
        try_cast(nullif(trim(InvoiceDate), '') as timestamp) as invoiced_at,
        try_cast(nullif(trim(UnitPrice), '') as decimal(18, 4)) as unit_price,
        nullif(regexp_replace(trim(CustomerID), '\.0+$', ''), '') as customer_id,
        nullif(trim(Country), '') as country
    from read_csv('{data}', header = true, all_varchar = true)
),
sales as (
    select distinct * from lines
    where invoiced_at is not null and quantity is not null and unit_price is not null
        and customer_id is not null and invoice_id is not null
        and upper(invoice_id) not like 'A%' and upper(invoice_id) not like 'C%'
        and coalesce(stock_code, '') not in (
            select upper(stock_code) from read_csv('{non_product}', all_varchar = true))
        and quantity > 0 and unit_price > 0
),
as_of as (select cast(max(cast(invoiced_at as date)) + interval 1 day as date) as as_of_date from sales),
rfm as (
    select
        customer_id,
        cast(date_diff('day', max(cast(invoiced_at as date)), any_value(as_of_date)) as integer) as recency_days,
        cast(count(distinct invoice_id) as integer) as frequency,
        cast(sum(cast(quantity * unit_price as decimal(18, 4))) as decimal(18, 2)) as monetary
    from sales cross join as_of
    group by customer_id
),
cuts as (
    select 'r' as metric, percentile_cont(0.25) within group (order by recency_days) as p25,
        percentile_cont(0.5) within group (order by recency_days) as p50,
        percentile_cont(0.75) within group (order by recency_days) as p75 from rfm
    union all
    select 'f', percentile_cont(0.25) within group (order by frequency),
        percentile_cont(0.5) within group (order by frequency),
        percentile_cont(0.75) within group (order by frequency) from rfm
    union all
    select 'm', percentile_cont(0.25) within group (order by monetary),
        percentile_cont(0.5) within group (order by monetary),
        percentile_cont(0.75) within group (order by monetary) from rfm
),
scored as (
    select rfm.*,
        case when recency_days <= r.p25 then 4 when recency_days <= r.p50 then 3
             when recency_days <= r.p75 then 2 else 1 end as r_score,
        case when frequency <= f.p25 then 1 when frequency <= f.p50 then 2
             when frequency <= f.p75 then 3 else 4 end as f_score,
        case when monetary <= m.p25 then 1 when monetary <= m.p50 then 2
             when monetary <= m.p75 then 3 else 4 end as m_score
    from rfm
    cross join (select * from cuts where metric = 'r') as r
    cross join (select * from cuts where metric = 'f') as f
    cross join (select * from cuts where metric = 'm') as m
),
tier_cuts as (
    select cast(percentile_cont(0.25) within group (order by r_score + f_score + m_score) as double) as p25,
        cast(percentile_cont(0.5) within group (order by r_score + f_score + m_score) as double) as p50,
        cast(percentile_cont(0.75) within group (order by r_score + f_score + m_score) as double) as p75
    from scored
)
select customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
    r_score + f_score + m_score as rfm_score,
    case when r_score + f_score + m_score <= p25 then 'Bronze'
         when r_score + f_score + m_score <= p50 then 'Silver'
         when r_score + f_score + m_score <= p75 then 'Gold' else 'Platinum' end as tier
from scored cross join tier_cuts
) TO '{out}' (FORMAT parquet)
"""


def _quote(path) -> str:
    return str(Path(path).resolve()).replace("'", "''")


def write_parquet(frame: pd.DataFrame, out) -> None:
    with duckdb.connect() as con:
        con.register("result", frame)
        con.execute(f"COPY result TO '{_quote(out)}' (FORMAT parquet)")


def run_pandas(data, out, k_min: int, k_max: int, seed: int, silhouette_limit: int | None) -> dict:
    """The notebook way: every line in a DataFrame, groupby, quantiles, K-Means on everything."""
    started = time.perf_counter()
    raw = pandas_reference.read_online_retail(data)
    read = time.perf_counter()
    tiers = pandas_reference.rfm_tiers(pandas_reference.customer_rfm(raw))
    del raw
    rfm_done = time.perf_counter()
    k, _ = pandas_reference.notebook_kmeans(
        tiers, k_min=k_min, k_max=k_max, seed=seed, silhouette_limit=silhouette_limit)
    clustered = time.perf_counter()
    write_parquet(tiers[RESULT_COLUMNS], out)
    return {"read_s": read - started, "rfm_tiers_s": rfm_done - read,
            "kmeans_s": clustered - rfm_done, "k": k, "customers": len(tiers),
            "silhouette_customers": min(len(tiers), silhouette_limit or len(tiers))}


def run_notebook(data, out, k: int, seed: int) -> dict:
    """The bare notebook: read, clean, RFM, quartile tiers, one K-Means fit. The same rules as
    the floor (typed values, reject rules, exact copies of valid lines dropped), written the
    way a pandas user would, with no quarantine, no reasons and no k search."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    started = time.perf_counter()
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    read = time.perf_counter()
    df = df.apply(lambda column: column.str.strip())
    df["InvoiceNo"] = df["InvoiceNo"].replace("", None)
    df["StockCode"] = df["StockCode"].str.upper()
    df["CustomerID"] = df["CustomerID"].str.replace(r"\.0+$", "", regex=True).replace("", None)
    df["Quantity"] = pd.to_numeric(df["Quantity"], errors="coerce")
    df["UnitPrice"] = pd.to_numeric(df["UnitPrice"], errors="coerce")
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"], errors="coerce", format="ISO8601")
    invoice = df["InvoiceNo"].str.upper()
    df = df[df["InvoiceDate"].notna() & df["CustomerID"].notna() & df["InvoiceNo"].notna()
            & (df["Quantity"] == df["Quantity"].round()) & (df["Quantity"] > 0) & (df["UnitPrice"] > 0)
            & ~invoice.str.startswith(("A", "C"), na=False)
            & ~df["StockCode"].isin(pandas_reference.NON_PRODUCT_CODES)]
    df = df.drop_duplicates()
    df["date"] = df["InvoiceDate"].dt.normalize()
    df["amount"] = df["Quantity"] * df["UnitPrice"]
    as_of = df["date"].max() + pd.Timedelta(days=1)
    rfm = df.groupby("CustomerID").agg(last=("date", "max"), frequency=("InvoiceNo", "nunique"),
                                       monetary=("amount", "sum"))
    rfm["recency_days"] = (as_of - rfm["last"]).dt.days
    rfm["monetary"] = rfm["monetary"].round(2)
    rfm = rfm.rename_axis("customer_id").reset_index()[["customer_id", "recency_days", "frequency", "monetary"]]
    del df
    tiers = pandas_reference.rfm_tiers(rfm)
    rfm_done = time.perf_counter()
    features = StandardScaler().fit_transform(
        np.log1p(tiers[["recency_days", "frequency", "monetary"]].to_numpy(dtype=float)))
    KMeans(n_clusters=k, n_init=10, random_state=seed).fit(features)
    clustered = time.perf_counter()
    write_parquet(tiers[RESULT_COLUMNS], out)
    return {"read_s": read - started, "rfm_tiers_s": rfm_done - read,
            "kmeans_s": clustered - rfm_done, "customers": len(tiers)}


def run_floor(data, out, k: int, seed: int, memory_limit: str, temp_directory: str) -> dict:
    """One DuckDB query for RFM and tiers, then the pipeline's own final K-Means fit with k."""
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{_quote(temp_directory)}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute(FLOOR_SQL.format(data=_quote(data), non_product=_quote(NON_PRODUCT_SEED),
                                     out=_quote(out)))
        queried = time.perf_counter()
        rfm = con.execute(
            f"select customer_id, recency_days, frequency, monetary from '{_quote(out)}'").df()
    fit_clusters(rfm, n_clusters=k, seed=seed)
    return {"query_s": queried - started, "kmeans_s": time.perf_counter() - queried,
            "customers": len(rfm)}


def synthetic_rfm(customers: int, seed: int) -> pd.DataFrame:
    """RFM features shaped like retail customers: skewed spend, many one-off buyers."""
    rng = np.random.default_rng(seed)
    frequency = rng.geometric(0.35, customers)
    return pd.DataFrame({
        "customer_id": np.char.add("c", np.arange(customers).astype(str)),
        "recency_days": rng.integers(1, 374, customers),
        "frequency": frequency,
        "monetary": np.round(rng.lognormal(5.5, 1.2, customers) * frequency, 2),
    })


def run_kselect(customers: int, seed: int) -> dict:
    """The Python step alone at `customers` customers: the k sweep, the choice, the final fit."""
    rfm = synthetic_rfm(customers, seed)
    started = time.perf_counter()
    evaluation = evaluate_k(rfm, **arguments(EVALUATE_K, seed=seed))
    k, _ = choose_k(evaluation)
    evaluated = time.perf_counter()
    fit_clusters(rfm, n_clusters=k, seed=seed)
    return {"k_selection_s": evaluated - started, "final_fit_s": time.perf_counter() - evaluated,
            "k": k, "customers": customers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    notebook = commands.add_parser("notebook")
    pandas_way = commands.add_parser("pandas")
    floor = commands.add_parser("floor")
    for command in (notebook, pandas_way, floor):
        command.add_argument("--data", required=True)
        command.add_argument("--out", required=True)
        command.add_argument("--seed", type=int, default=VARS["cluster_seed"])
    pandas_way.add_argument("--k-min", type=int, default=VARS["k_min"])
    pandas_way.add_argument("--k-max", type=int, default=VARS["k_max"])
    pandas_way.add_argument("--silhouette-limit", type=int, default=None)
    for command in (notebook, floor):
        command.add_argument("--k", type=int, required=True)
    floor.add_argument("--memory-limit", default=os.environ.get("SEGMENTS_MEMORY_LIMIT", "16GB"))
    floor.add_argument("--temp-directory", required=True)
    kselect = commands.add_parser("kselect")
    kselect.add_argument("--customers", type=int, default=1_000_000)
    kselect.add_argument("--seed", type=int, default=VARS["cluster_seed"])
    options = parser.parse_args(argv)
    if options.command == "notebook":
        result = run_notebook(options.data, options.out, options.k, options.seed)
    elif options.command == "pandas":
        result = run_pandas(options.data, options.out, options.k_min, options.k_max,
                            options.seed, options.silhouette_limit)
    elif options.command == "floor":
        result = run_floor(options.data, options.out, options.k, options.seed,
                           options.memory_limit, options.temp_directory)
    else:
        result = run_kselect(options.customers, options.seed)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
