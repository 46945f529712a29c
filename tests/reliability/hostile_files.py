"""Small files built from the real Online Retail sample, with hostile or broken parts."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from conftest import SHARED_DATA

REAL_SAMPLE = SHARED_DATA / "online_retail_sample.csv"
HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]


def sample_rows(count: int = 3000) -> list[list[str]]:
    with open(REAL_SAMPLE, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[1:count + 1]


def write_csv(path: Path, header: list[str], rows: list[list[str]], tail: str = "") -> Path:
    """RFC 4180 CSV (quotes where needed), `tail` appended verbatim after the last line."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        handle.write(tail)
    return path


def outcomes(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("select outcome, rows from marts.data_quality_summary where rows > 0").fetchall())


def scalar(db: Path, sql: str, params=None):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchone()[0]


def one_line_error(result, dbt_ran: bool = False) -> str:
    """The run failed with exactly one line on stderr and no traceback; returns the line.
    `dbt_ran`: stdout carries dbt's own output, where a failed Python model prints its traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr + ("" if dbt_ran else result.stdout), result.stderr[-3000:]
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr[-3000:]
    return result.stderr.strip()
