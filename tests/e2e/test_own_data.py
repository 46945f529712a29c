"""The user's own file: other column names and formats, malformed lines, and every bad input.

Expected figures come from the real Online Retail sample through the independent pandas
implementation, or from counting the file's text in the test; the pipeline runs for real.
"""
from __future__ import annotations

import csv
import datetime as dt
import os

import duckdb
import numpy as np
import pytest

from conftest import SHARED_DATA, build, run_pipeline, shared_data, write_mixed_line_ends
import pandas_reference
from test_pipeline import mart_digest

REAL_SAMPLE = SHARED_DATA / "online_retail_sample.csv"
OWN_NAMES = ["order_no", "sku", "item", "qty", "order_day", "each", "cust_no", "land"]
OWN_MAPPING = ("invoice_id=order_no,stock_code=sku,description=item,quantity=qty,"
               "invoice_date=order_day,unit_price=each,customer_id=cust_no,country=land")
MALFORMED = [
    '"999001";"85123A";"TOO MANY";"FIELDS";"6";"06/10/2011 16:20";"2.55";"17850.0";"United Kingdom"',
    '"999002";"85123A";"too few"',
    '"999003";"85123A";"a stray "quote";"6";"06/10/2011 16:20";"2.55";"17850.0";"United Kingdom"',
]


def summary_of(db) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("select outcome, rows from marts.data_quality_summary where rows > 0").fetchall())


def rfm_of(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select customer_id, recency_days, frequency, monetary::double as monetary "
            "from marts.customer_rfm order by customer_id"
        ).df().set_index("customer_id")


def assert_rfm_matches_reference(db):
    expected = pandas_reference.customer_rfm(pandas_reference.read_online_retail(REAL_SAMPLE))
    expected = expected.set_index("customer_id").sort_index()
    actual = rfm_of(db)
    assert list(actual.index) == list(expected.index)
    assert (actual["recency_days"].to_numpy() == expected["recency_days"].to_numpy()).all()
    assert (actual["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()
    np.testing.assert_allclose(actual["monetary"], expected["monetary"], atol=0.006)


def expected_reasons() -> dict[str, int]:
    raw = pandas_reference.read_online_retail(REAL_SAMPLE)
    return pandas_reference.classify_lines(raw).fillna("valid").value_counts().to_dict()


@pytest.fixture(scope="module")
def own_csv(tmp_path_factory):
    """The real sample as another shop exports it: own column names, ';' separated, every value
    quoted, day-first dates, Latin-1 text, plus three lines that cannot be split into fields."""
    shared_data(REAL_SAMPLE.name)
    path = tmp_path_factory.mktemp("own") / "shop export.csv"
    with open(REAL_SAMPLE, newline="") as source, open(path, "w", newline="", encoding="latin-1") as out:
        reader = csv.DictReader(source)
        writer = csv.writer(out, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(OWN_NAMES)
        for number, row in enumerate(reader):
            when = dt.datetime.fromisoformat(row["InvoiceDate"])
            # Same stock code, same text: exact duplicates stay exact.
            description = row["Description"] + (" CAFÉ" if row["StockCode"].endswith("7") else "")
            writer.writerow([row["InvoiceNo"], row["StockCode"], description, row["Quantity"],
                             when.strftime("%d/%m/%Y %H:%M"), row["UnitPrice"], row["CustomerID"], row["Country"]])
            if number in (1000, 2000, 3000):
                out.write(MALFORMED[number // 1000 - 1] + "\n")
    return path


@pytest.fixture(scope="module")
def own_db(tmp_path_factory, own_csv):
    return build(tmp_path_factory.mktemp("own_build"), "--data", str(own_csv), "--columns", OWN_MAPPING,
                 "--date-format", "%d/%m/%Y %H:%M")


def test_own_names_latin1_semicolons_and_day_first_dates(own_db, own_csv):
    with open(own_csv, encoding="latin-1") as handle:
        data_lines = sum(1 for line in handle if line.strip()) - 1
    summary = summary_of(own_db)
    # Every line of the file is accounted for, counted here on the text, not by a CSV parser.
    assert sum(summary.values()) == data_lines == 30_003
    assert summary.pop("malformed_line") == 3
    assert summary == expected_reasons()
    assert_rfm_matches_reference(own_db)
    with duckdb.connect(str(own_db), read_only=True) as con:
        malformed = con.execute(
            "select line_number, raw_line from marts.rejected_transactions "
            "where reject_reason = 'malformed_line' order by line_number"
        ).fetchall()
        cafe = con.execute("select count(*) from marts.clean_transactions where description like '% CAFÉ'").fetchone()[0]
    assert [raw for _, raw in malformed] == MALFORMED
    assert cafe > 200  # Latin-1 text arrives intact


@pytest.fixture(scope="module")
def parquet_ii(tmp_path_factory):
    """The real sample with the Online Retail II names and typed columns, as Parquet."""
    shared_data(REAL_SAMPLE.name)
    path = tmp_path_factory.mktemp("parquet") / "online_retail_ii.parquet"
    with duckdb.connect() as con:
        con.execute(f"""
            copy (
                select InvoiceNo as Invoice, StockCode, Description,
                       try_cast(Quantity as bigint) as Quantity,
                       try_cast(InvoiceDate as timestamp) as InvoiceDate,
                       try_cast(UnitPrice as double) as Price,
                       try_cast(nullif(CustomerID, '') as double) as "Customer ID", Country
                from read_csv('{REAL_SAMPLE}', all_varchar = true)
            ) to '{path}' (format parquet)
        """)
    return path


def test_parquet_with_online_retail_ii_names(tmp_path, parquet_ii):
    db = build(tmp_path, "--data", str(parquet_ii))
    summary = summary_of(db)
    assert sum(summary.values()) == 30_000
    assert summary == expected_reasons()
    assert_rfm_matches_reference(db)


def test_excel_workbook_reads_every_sheet_of_the_same_shape(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    header = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
    sheets = {
        "Year 2009-2010": [
            [536365, "85123A", "WHITE HANGING HEART", 6, dt.datetime(2010, 12, 1, 8, 26), 2.55, 17850.0, "United Kingdom"],
            ["536366", "22633", "HAND WARMER", 6, dt.datetime(2010, 12, 1, 8, 28), 1.85, 17850.0, "United Kingdom"],
            ["536367", "84879", "BIRD ORNAMENT", 32, dt.datetime(2010, 12, 1, 8, 34), 1.69, "00123", "France"],
            ["C536379", "D", "Discount", -1, dt.datetime(2010, 12, 1, 9, 41), 27.5, 14527.0, "United Kingdom"],
        ],
        "Year 2010-2011": [
            ["581587", "22613", "PACK OF 20 NAPKINS", 12, dt.datetime(2011, 12, 9, 12, 50), 0.85, 12680.0, "France"],
            ["581588", "22614", "NO CUSTOMER", 12, dt.datetime(2011, 12, 9, 12, 51), 0.85, None, "France"],
        ],
    }
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    notes = workbook.create_sheet("Notes")
    notes.append(["This sheet is not transactions"])
    path = tmp_path / "Online Retail.xlsx"
    workbook.save(path)

    result = run_pipeline(tmp_path, "run", "--data", str(path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "skipped sheet(s) Notes" in result.stdout
    summary = summary_of(tmp_path / "segments.duckdb")
    assert summary == {"valid": 4, "cancellation": 1, "missing_customer": 1}
    with duckdb.connect(str(tmp_path / "segments.duckdb"), read_only=True) as con:
        customers = dict(con.execute("select customer_id, monetary::double from marts.customer_rfm").fetchall())
        as_of = con.execute("select max(as_of_date) from marts.customer_rfm").fetchone()[0]
        invoices = {row[0] for row in con.execute("select invoice_id from marts.clean_transactions").fetchall()}
    # 17850.0 read from a float cell is customer 17850; the text id 00123 keeps its zeros.
    assert invoices >= {"536365", "536366", "536367", "581587"}
    assert customers == pytest.approx({"17850": 6 * 2.55 + 6 * 1.85, "00123": 32 * 1.69, "12680": 12 * 0.85})
    assert as_of == dt.date(2011, 12, 10)


def test_real_online_retail_invoices_reproduce_the_published_figures(tmp_path):
    # InvoiceNo, InvoiceDate (YYYY-MM-DD), CustomerID, TotalPrice: TotalPrice is recognised as amount.
    db = build(tmp_path, "--data", str(shared_data("online_retail_invoices.csv")))
    with duckdb.connect(str(db), read_only=True) as con:
        customers, orders, monetary, as_of = con.execute(
            "select count(*), sum(frequency), sum(monetary), max(as_of_date) from marts.customer_rfm"
        ).fetchone()
    assert customers == 4_338
    assert orders == 18_532
    assert str(monetary) == "8911407.90"
    assert as_of == dt.date(2011, 12, 10)
    assert summary_of(db) == {"valid": 18_532}


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


BAD_INPUTS = {
    "missing file": (lambda d: d / "nope.csv", [], "input file not found"),
    "folder": (lambda d: d, [], "is a folder, not a file"),
    "empty file": (lambda d: write(d / "empty.csv", ""), [], "input file is empty"),
    "header only": (lambda d: write(d / "header.csv", "InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n"), [],
                    "no data rows"),
    "unknown format": (lambda d: write(d / "data.json", '{"a": 1}'), [], "unknown format '.json'"),
    "unreadable parquet": (lambda d: write(d / "broken.parquet", "this is not parquet"), [],
                           "cannot read broken.parquet as PARQUET"),
    "missing customer column": (
        lambda d: write(d / "nocust.csv", "InvoiceNo,InvoiceDate,Client,TotalPrice\n1,2011-01-01,7,3.5\n"), [],
        "missing required column customer_id in nocust.csv; columns found: InvoiceNo, InvoiceDate, Client, TotalPrice"),
    "missing money columns": (
        lambda d: write(d / "nomoney.csv", "InvoiceNo,InvoiceDate,CustomerID,Quantity\n1,2011-01-01,7,3\n"), [],
        "missing required column amount (or quantity and unit_price)"),
    "mapping to an absent column": (
        lambda d: write(d / "map.csv", "InvoiceNo,InvoiceDate,Client,TotalPrice\n1,2011-01-01,7,3.5\n"),
        ["--columns", "customer_id=cust_no"], "COLUMNS maps customer_id to 'cust_no', which is not a column"),
    "mapping to an unknown canonical name": (
        lambda d: write(d / "map2.csv", "InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n1,2011-01-01,7,3.5\n"),
        ["--columns", "client=CustomerID"], "'client' is not a canonical column"),
    "dates not ISO": (
        lambda d: write(d / "dates.csv", "InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n1,31/01/2011,7,3.5\n"), [],
        "are not ISO"),
    "mixed line ends with a malformed line": (lambda d: write_mixed_line_ends(d / "mixed.csv"), [],
                                              "its lines end in both CRLF (5,001 lines) and LF alone (25,001)"),
    "wrong DATE_FORMAT": (
        lambda d: write(d / "dates2.csv", "InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n1,31/01/2011,7,3.5\n"),
        ["--date-format", "%m/%d/%Y"], "DATE_FORMAT '%m/%d/%Y' matches none"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_leaves_the_last_good_marts(case, own_db, tmp_path):
    make, options, message = BAD_INPUTS[case]
    before = mart_digest(own_db)
    result = run_pipeline(own_db.parent, "run", "--data", str(make(tmp_path)), *options, db_name=own_db.name)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "dbt build" not in result.stdout  # stopped before dbt
    assert mart_digest(own_db) == before


def test_every_row_rejected_says_so_with_counts_and_keeps_the_marts(own_db, tmp_path):
    path = write(tmp_path / "guests.csv", "InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n"
                 "1,2011-01-01,,3.5\n2,2011-01-02,,4\n3,2011-01-03,7,-1\n")
    before = mart_digest(own_db)
    result = run_pipeline(own_db.parent, "run", "--data", str(path), db_name=own_db.name)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: every one of the 3 rows was rejected (missing_customer 2, non_positive_amount 1); "
                           "the marts were left as they were (see intermediate.int_transaction_lines_classified). "
                           "BI keeps the data published at ")
    assert mart_digest(own_db) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path / "secret.csv", "InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n1,2011-01-01,7,3.5\n")
    path.chmod(0)
    result = run_pipeline(tmp_path, "run", "--data", str(path))
    assert result.returncode != 0 and "cannot read" in result.stderr


def test_plain_dbt_names_a_missing_column_and_a_bad_mapping(tmp_path):
    """People who run dbt themselves get the same rules from macro raw_transaction_columns."""
    import subprocess
    import sys
    from pathlib import Path

    from conftest import REPO

    path = write(tmp_path / "orders.csv", "order_no,order_day,client,total\n1,2011-01-01,7,3.5\n")
    env = dict(os.environ, DBT_PROFILES_DIR=str(REPO), SEGMENTS_DB=str(tmp_path / "x.duckdb"),
               DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
    dbt = str(Path(sys.executable).with_name("dbt"))

    def dbt_run(raw_vars: str) -> subprocess.CompletedProcess:
        return subprocess.run([dbt, "run", "--select", "stg_retail__transaction_lines", "--vars", raw_vars],
                              cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)

    missing = dbt_run(f"{{raw_path: '{path}', raw_columns: 'invoice_date=order_day,amount=total'}}")
    assert missing.returncode != 0
    assert "missing required column customer_id" in missing.stdout
    assert "columns found: order_no, order_day, client, total" in missing.stdout
    wrong = dbt_run(f"{{raw_path: '{path}', raw_columns: 'customer_id=cust_no'}}")
    assert wrong.returncode != 0
    assert "raw_columns maps customer_id to 'cust_no', which is not a column of the file" in wrong.stdout
    mapped = dbt_run(f"{{raw_path: '{path}', raw_columns: {{customer_id: client, invoice_date: order_day, "
                     f"amount: total, invoice_id: order_no}}}}")
    assert mapped.returncode == 0, mapped.stdout[-2000:]


def test_without_invoice_ids_an_order_is_a_customer_day_and_identical_lines_stay(tmp_path):
    # Day-first dates without time, an amount per line, no invoice id; customer 7 buys the same
    # thing twice on 2 Jan (two identical lines: both kept) and again on 5 Jan.
    path = write(tmp_path / "pos.csv", "client,day,total\n"
                 "7,02/01/2011,10.00\n7,02/01/2011,10.00\n7,05/01/2011,2.50\n"
                 "0042,03/01/2011,99.99\n0042,04/01/2011,0\n9,06/01/2011,1.00\n"
                 "9,31/02/2011,1.00\n9,07/01/2011,one pound\n,07/01/2011,3\n")
    db = build(tmp_path, "--data", str(path), "--columns", "customer_id=client,invoice_date=day,amount=total",
               "--date-format", "%d/%m/%Y")
    with duckdb.connect(str(db), read_only=True) as con:
        rfm = con.execute("select customer_id, frequency, monetary::double, recency_days from marts.customer_rfm "
                          "order by customer_id").fetchall()
        orders = con.execute("select distinct invoice_id from marts.clean_transactions order by 1").fetchall()
    assert rfm == [("0042", 1, 99.99, 4), ("7", 2, 22.5, 2), ("9", 1, 1.0, 1)]
    assert orders == [("0042/2011-01-03",), ("7/2011-01-02",), ("7/2011-01-05",), ("9/2011-01-06",)]
    # Bad values are rejected with a reason, they do not stop the run.
    assert summary_of(db) == {"valid": 5, "non_positive_amount": 1, "unparseable_invoice_date": 1,
                              "unparseable_amount": 1, "missing_customer": 1}
