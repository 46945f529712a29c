"""The sample-data generator: exact shape, determinism, realistic dirt and distinct personas."""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rfm_segments.sample_data import COLUMNS, generate, main

ROWS = 30_000
END = "2011-12-09"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("sample") / "nested" / "retail.csv"  # parent is missing
    return path, generate(path, rows=ROWS, seed=7)


@pytest.fixture(scope="module")
def lines(sample: tuple[Path, dict]) -> duckdb.DuckDBPyConnection:
    """The generated file as an all-text table `s`, the way a raw loader would read it."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE s AS SELECT * FROM read_csv('{sample[0]}', all_varchar = true)")
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()[0]


def test_exact_row_count_header_and_counts(sample: tuple[Path, dict]) -> None:
    path, stats = sample
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == ROWS == stats["rows"]
    assert all(len(row) == len(COLUMNS) for row in rows)
    assert [p.name for p in path.parent.iterdir()] == ["retail.csv"]  # no temp file left behind


@pytest.mark.parametrize("rows", [1, 777, 12_345])
def test_any_row_count_is_exact(tmp_path: Path, rows: int) -> None:
    path = tmp_path / "x.csv"
    assert generate(path, rows=rows, seed=3)["rows"] == rows
    assert len(path.read_text().splitlines()) == rows + 1


def test_same_seed_same_bytes_other_seed_other_data(sample: tuple[Path, dict],
                                                    tmp_path: Path) -> None:
    again, other = tmp_path / "again.csv", tmp_path / "other.csv"
    generate(again, rows=ROWS, seed=7)
    generate(other, rows=ROWS, seed=8)
    assert again.read_bytes() == sample[0].read_bytes()
    assert other.read_bytes() != sample[0].read_bytes()
    # the seed reaches every choice, down to the catalogue, not just which invoices are kept
    codes = "SELECT DISTINCT StockCode FROM read_csv('{}', all_varchar = true)"
    assert duckdb.execute(f"{codes.format(sample[0])} EXCEPT {codes.format(other)}").fetchall()


def test_text_formats_match_the_real_file(sample: tuple[Path, dict]) -> None:
    with sample[0].open(newline="") as f:
        records = list(csv.DictReader(f))
    checks = {
        "InvoiceNo": r"[CA]?\d{6}",
        "Quantity": r"-?\d+",
        "InvoiceDate": r"\d{4}-\d\d-\d\d \d\d:\d\d:00",
        "UnitPrice": r"-?\d+\.\d{1,3}",
        "CustomerID": r"(\d+\.0)?",  # a float rendering, empty where missing
    }
    for column, pattern in checks.items():
        bad = [r[column] for r in records if not re.fullmatch(pattern, r[column])]
        assert not bad, f"{column}: {bad[:5]}"
    assert sum(r["Description"] != r["Description"].rstrip() for r in records) > 0  # stray spaces
    assert sum("," in r["Description"] for r in records) > 0  # needs CSV quoting
    raw = sample[0].read_text()
    assert '"' in raw and "\r" not in raw


def test_dirt_in_realistic_proportions(lines: duckdb.DuckDBPyConnection) -> None:
    share = lambda where: scalar(lines, f"SELECT avg(({where})::INT) FROM s")  # noqa: E731
    assert 0.20 <= share("CustomerID IS NULL") <= 0.30
    assert 0.008 <= share("InvoiceNo LIKE 'C%'") <= 0.03
    assert 0.001 <= share("UnitPrice::DOUBLE = 0") <= 0.006
    assert 0.001 <= share("NOT regexp_matches(StockCode, '^\\d{5}')") <= 0.02
    duplicates = ROWS - scalar(lines, "SELECT count(*) FROM (SELECT DISTINCT * FROM s)")
    assert 0.004 * ROWS <= duplicates <= 0.02 * ROWS
    # a customer's invoice is never mixed with guest lines: whole invoices lack the customer
    assert scalar(lines, """SELECT count(*) FROM (SELECT InvoiceNo FROM s GROUP BY 1
                            HAVING count(DISTINCT coalesce(CustomerID, '-')) > 1)""") == 0


def test_non_product_codes_carry_their_real_descriptions(lines: duckdb.DuckDBPyConnection) -> None:
    found = dict(lines.execute("""SELECT StockCode, any_value(Description) FROM s
                                  WHERE NOT regexp_matches(StockCode, '^\\d{5}')
                                  GROUP BY 1""").fetchall())
    for code, description in {"POST": "POSTAGE", "M": "Manual", "D": "Discount",
                              "DOT": "DOTCOM POSTAGE", "B": "Adjust bad debt"}.items():
        assert found.get(code) == description
    assert scalar(lines, """SELECT bool_and(InvoiceNo LIKE 'C%' AND Quantity::INT < 0)
                            FROM s WHERE StockCode = 'D'""")


def test_cancellations_mirror_an_earlier_invoice_of_the_customer(
        lines: duckdb.DuckDBPyConnection) -> None:
    cancelled = lines.execute("""
        SELECT count(*), count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM s o
            WHERE o.CustomerID = c.CustomerID AND o.StockCode = c.StockCode
              AND o.UnitPrice = c.UnitPrice AND o.InvoiceNo NOT LIKE 'C%'
              AND try_cast(o.InvoiceNo AS INT) < substr(c.InvoiceNo, 2)::INT
              AND o.InvoiceDate <= c.InvoiceDate
              AND o.Quantity::INT >= -c.Quantity::INT))
        FROM s c
        WHERE c.InvoiceNo LIKE 'C%' AND c.CustomerID IS NOT NULL AND c.StockCode <> 'D'
    """).fetchone()
    assert cancelled[0] > 100
    assert cancelled[1] == cancelled[0]
    assert scalar(lines, "SELECT bool_and(Quantity::INT < 0) FROM s WHERE InvoiceNo LIKE 'C%'")


def test_adjustments(lines: duckdb.DuckDBPyConnection) -> None:
    bad_debt = lines.execute("""SELECT DISTINCT StockCode, Description, Quantity, CustomerID
                                FROM s WHERE InvoiceNo LIKE 'A%'""").fetchall()
    assert bad_debt == [("B", "Adjust bad debt", "1", None)]
    # stock written off outside a cancellation: no customer, no price
    assert scalar(lines, """SELECT count(*) FROM s WHERE Quantity::INT < 0
                            AND InvoiceNo NOT LIKE 'C%' AND InvoiceNo NOT LIKE 'A%'""") > 10
    assert scalar(lines, """SELECT bool_and(CustomerID IS NULL AND UnitPrice::DOUBLE = 0) FROM s
                            WHERE Quantity::INT < 0 AND InvoiceNo NOT LIKE 'C%'""")


def test_dates_and_invoice_numbers(lines: duckdb.DuckDBPyConnection) -> None:
    first, last = lines.execute("SELECT min(InvoiceDate), max(InvoiceDate) FROM s").fetchone()
    assert first >= "2010-12-01 00:00:00" and last <= f"{END} 23:59:59"
    assert first < "2010-12-08" and last > "2011-12-01"  # the whole year is covered
    # numbers grow with time, whatever the prefix; the file is sorted by date then number
    assert scalar(lines, """
        SELECT count(*) FROM (
            SELECT InvoiceDate < lag(InvoiceDate) OVER w
                   OR regexp_replace(InvoiceNo, '^[CA]', '')::INT
                      < lag(regexp_replace(InvoiceNo, '^[CA]', '')::INT) OVER w AS backwards
            FROM (SELECT *, row_number() OVER () AS n FROM s) WINDOW w AS (ORDER BY n))
        WHERE backwards""") == 0
    assert scalar(lines, "SELECT min(regexp_replace(InvoiceNo, '^[CA]', '')::INT) FROM s") == 536365


def test_seasonality_weekdays_and_hours(lines: duckdb.DuckDBPyConnection) -> None:
    count = lambda where: scalar(  # noqa: E731
        lines, f"SELECT count(*) FROM (SELECT InvoiceDate::TIMESTAMP AS t FROM s) WHERE {where}")
    invoices = lambda month: scalar(  # noqa: E731
        lines, f"SELECT count(DISTINCT InvoiceNo) FROM s WHERE month(InvoiceDate::DATE) = {month}")
    assert invoices(11) > 1.6 * invoices(2)  # November peak, quiet February (real: ~2.7x)
    assert count("dayofweek(t) = 4") > 1.2 * count("dayofweek(t) = 0")  # Thursday vs Sunday
    assert count("dayofweek(t) = 6") == 0  # like the real shop: no Saturdays
    assert count("hour(t) BETWEEN 8 AND 17") > 0.95 * ROWS


def test_countries(lines: duckdb.DuckDBPyConnection) -> None:
    assert 0.8 <= scalar(lines, "SELECT avg((Country = 'United Kingdom')::INT) FROM s") <= 0.97
    assert scalar(lines, "SELECT count(DISTINCT Country) FROM s") >= 8
    assert scalar(lines, "SELECT max(n) FROM (SELECT count(DISTINCT Country) n FROM s "
                         "WHERE CustomerID IS NOT NULL GROUP BY CustomerID)") == 1


def test_personas_make_distinct_customers(sample: tuple[Path, dict],
                                          lines: duckdb.DuckDBPyConnection) -> None:
    lines.execute("""
        CREATE OR REPLACE TEMP TABLE customers AS
        SELECT CustomerID, count(DISTINCT InvoiceNo) AS invoices,
            min(InvoiceDate::TIMESTAMP) AS first, max(InvoiceDate::TIMESTAMP) AS last,
            sum(Quantity::INT * UnitPrice::DOUBLE) AS spend
        FROM s WHERE CustomerID IS NOT NULL AND InvoiceNo NOT LIKE 'C%' GROUP BY 1""")
    n = scalar(lines, "SELECT count(*) FROM customers")
    assert n == sample[1]["customers"]
    assert 0.5 * ROWS / 100 <= n <= 1.5 * ROWS / 100  # ~1 customer per 100 lines
    share = lambda where: scalar(lines, f"SELECT avg(({where})::INT) FROM customers")  # noqa: E731
    assert 0.2 <= share("invoices = 1") <= 0.5  # one-off buyers
    assert 0.03 <= share("invoices >= 12") <= 0.2  # loyal customers and whales
    # dormant: bought repeatedly, then nothing for six months (chance alone gives ~1%)
    assert 0.05 <= share(f"invoices >= 3 AND last < DATE '{END}' - 180") <= 0.3
    # new: first seen in the last two months and already back again (chance alone: ~0.5%)
    assert 0.02 <= share(f"invoices >= 2 AND first >= DATE '{END}' - 60") <= 0.2
    top_share = scalar(lines, """SELECT sum(spend) FILTER (WHERE rank <= greatest(1, n / 100))
                                        / sum(spend)
                                 FROM (SELECT spend, row_number() OVER (ORDER BY spend DESC) rank,
                                              count(*) OVER () n FROM customers)""")
    assert top_share >= 0.12  # whales: the top 1% hold a large share (real: 32%; none: <10%)


def test_parquet_holds_the_same_texts(sample: tuple[Path, dict], tmp_path: Path) -> None:
    path = tmp_path / "retail.parquet"
    assert generate(path, rows=ROWS, seed=7)["rows"] == ROWS
    con = duckdb.connect()
    schema = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    assert [(c[0], c[1]) for c in schema] == [(name, "VARCHAR") for name in COLUMNS]
    assert scalar(con, f"""SELECT count(*) FROM (
        SELECT * FROM read_parquet('{path}')
        EXCEPT ALL SELECT * FROM read_csv('{sample[0]}', all_varchar = true))""") == 0


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli" / "x.csv"
    assert main(["--rows", "2000", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2,000 lines" in printed and str(out) in printed
    assert len(out.read_text().splitlines()) == 2001
    with pytest.raises(ValueError):
        generate(tmp_path / "x.txt", rows=10)
