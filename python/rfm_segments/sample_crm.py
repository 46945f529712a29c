"""A seeded customer attributes file (a CRM export) for the customers of a transactions file.

For demos and tests of the attribute profiles (docs/customer-attributes.md). Every customer
gets an age, gender, occupation, income, region and newsletter flag drawn at random, except
that frequent buyers (at least `planted_min_orders` distinct orders) are planted: with
probability `planted_share` each they are aged 25-34 and, independently, nurses. The segments
holding the frequent buyers should therefore show age 25-34 and occupation nurse as their most
distinguishing attributes, and gender, region and income nothing in particular. A few values
are left empty (missing). One row per customer of the file; Python touches one row per customer.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from rfm_segments import ingest
from rfm_segments.project_macros import normalize_customer_id
from rfm_segments.sql_quoting import quote_identifier

OCCUPATIONS = ("nurse", "teacher", "engineer", "retail", "student", "retired", "manager", "artist")
REGIONS = ("north", "south", "east", "west", "central")
PLANTED_OCCUPATION = "nurse"
PLANTED_AGES = (25, 34)
MISSING_SHARE = 0.03


@dataclass
class PlantedAttributes:
    customers: int
    planted_ids: set[str]          # the frequent buyers, who may carry the planted values
    description: str


def customer_orders(transactions: Path) -> list[tuple[str, int]]:
    """(customer id, distinct orders) per customer, ids normalised as the pipeline does."""
    prepared = ingest.prepare(transactions)
    customer = quote_identifier(prepared.mapping["customer_id"])
    order = quote_identifier(prepared.mapping.get("invoice_id") or prepared.mapping["invoice_date"])
    reader = (ingest.csv_reader(prepared.path, prepared.dbt_vars) if prepared.kind != "parquet"
              else ingest.Reader("read_parquet($raw_path)", {"raw_path": str(prepared.path)}))
    with duckdb.connect() as con:
        return reader.run(
            con,
            f"select customer_id, count(distinct order_key) from ("
            f"  select {normalize_customer_id(f'cast({customer} as varchar)')} as customer_id,"
            f"  cast({order} as varchar) as order_key from {{reader}}) "
            f"where customer_id is not null group by 1 order by 1",
        ).fetchall()


def generate_customer_attributes(transactions: Path, out: Path, seed: int = 7, planted_min_orders: int = 8,
                                 planted_share: float = 0.7) -> PlantedAttributes:
    orders = customer_orders(transactions)
    rng = np.random.default_rng(seed)
    n = len(orders)
    frequent = np.array([count >= planted_min_orders for _, count in orders])
    age = rng.integers(18, 81, size=n)
    planted_age = frequent & (rng.random(n) < planted_share)
    age[planted_age] = rng.integers(PLANTED_AGES[0], PLANTED_AGES[1] + 1, size=int(planted_age.sum()))
    occupation = rng.choice(OCCUPATIONS, size=n)
    planted_job = frequent & (rng.random(n) < planted_share)
    occupation[planted_job] = PLANTED_OCCUPATION
    gender = rng.choice(("F", "M", "X"), size=n, p=(0.49, 0.49, 0.02))
    income = np.round(rng.lognormal(10.5, 0.5, size=n), -2)
    region = rng.choice(REGIONS, size=n)
    newsletter = rng.choice(("yes", "no"), size=n)
    age_missing = rng.random(n) < MISSING_SHARE
    income_missing = rng.random(n) < MISSING_SHARE
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["CustomerID", "age", "gender", "occupation", "income", "region", "newsletter"])
        for i, (customer_id, _) in enumerate(orders):
            writer.writerow([customer_id, "" if age_missing[i] else int(age[i]), gender[i], occupation[i],
                             "" if income_missing[i] else int(income[i]), region[i], newsletter[i]])
    return PlantedAttributes(
        customers=n,
        planted_ids={customer_id for (customer_id, _), is_frequent in zip(orders, frequent) if is_frequent},
        description=f"customers with {planted_min_orders}+ orders are aged {PLANTED_AGES[0]}-{PLANTED_AGES[1]} "
                    f"and {PLANTED_OCCUPATION}s with probability {planted_share} each",
    )
