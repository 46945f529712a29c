"""The preflight on its own: column recognition, mapping, dialect and encoding detection."""
from __future__ import annotations

import pytest

from conftest import write_mixed_line_ends
from rfm_segments import ingest
from rfm_segments.ingest import InputError


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def test_online_retail_ii_names_are_recognised(tmp_path):
    path = write(tmp_path / "ii.csv", "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
                 "489434,85048,ROSE,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n")
    prepared = ingest.prepare(path)
    assert prepared.mapping == {
        "invoice_id": "Invoice", "stock_code": "StockCode", "description": "Description", "quantity": "Quantity",
        "invoice_date": "InvoiceDate", "unit_price": "Price", "customer_id": "Customer ID", "country": "Country",
    }


def test_names_are_case_and_space_insensitive_and_mapping_wins(tmp_path):
    path = write(tmp_path / "x.csv", "INVOICE NO,invoice date,customer_id,Total Price,cust_no\n1,2011-01-01,7,3.5,8\n")
    prepared = ingest.prepare(path, columns="customer_id=CUST_NO")
    assert prepared.mapping == {"invoice_id": "INVOICE NO", "invoice_date": "invoice date",
                                "amount": "Total Price", "customer_id": "cust_no"}
    assert prepared.dbt_vars["raw_columns"] == "customer_id=CUST_NO"


def test_money_needs_amount_or_quantity_and_price(tmp_path):
    path = write(tmp_path / "x.csv", "CustomerID,InvoiceDate,UnitPrice\n7,2011-01-01,3.5\n")
    with pytest.raises(InputError, match=r"missing required column amount \(or quantity and unit_price\).*"
                                         r"columns found: CustomerID, InvoiceDate, UnitPrice"):
        ingest.prepare(path)


def test_delimiter_is_found_despite_malformed_lines(tmp_path):
    good = "".join(f'{i};"ITEM; WITH ""QUOTES""";2;2011-01-0{1 + i % 9};1,5;{i % 7}\n' for i in range(50))
    path = write(tmp_path / "x.csv", "InvoiceNo;Description;Quantity;InvoiceDate;amount;CustomerID\n"
                 + good + "1;too;few\n" + "1;2;3;4;5;6;7;8;9\n" + good)
    assert ingest.prepare(path).dbt_vars["raw_csv_delimiter"] == ";"


def test_latin1_is_detected_and_utf8_kept(tmp_path):
    text = "InvoiceNo,Description,InvoiceDate,CustomerID,amount\n1,CAFÉ,2011-01-01,7,3.5\n"
    assert ingest.prepare(write(tmp_path / "l.csv", text, "latin-1")).dbt_vars["raw_encoding"] == "latin-1"
    assert ingest.prepare(write(tmp_path / "u.csv", text, "utf-8")).dbt_vars["raw_encoding"] == "utf-8"


def test_date_format_is_checked_on_the_first_rows(tmp_path):
    path = write(tmp_path / "d.csv", "InvoiceNo,InvoiceDate,CustomerID,amount\n1,20110131,7,3.5\n")
    with pytest.raises(InputError, match="not ISO"):
        ingest.prepare(path)
    assert ingest.prepare(path, date_format="%Y%m%d").dbt_vars["raw_date_format"] == "%Y%m%d"


@pytest.mark.parametrize("text, message", [
    ("customer_id", "is not canonical=theirs"),
    ("buyer=CustomerID", "'buyer' is not a canonical column"),
])
def test_bad_mappings(text, message):
    with pytest.raises(InputError, match=message):
        ingest.parse_mapping(text)


def test_damaged_workbook(tmp_path):
    path = write(tmp_path / "book.xlsx", "not a zip")
    with pytest.raises(InputError, match="cannot read book.xlsx as an Excel workbook"):
        ingest.prepare(path)


# ---------------------------------------------------------------- the customer attributes file


def test_customers_file_id_found_by_name_or_mapping_and_dialect_passed_as_customers_vars(tmp_path):
    path = write(tmp_path / "crm.csv", "Customer ID;age;job\n12347.0;30;nurse\n", encoding="latin-1")
    prepared = ingest.prepare_customers(path)
    assert prepared.mapping == {"customer_id": "Customer ID"}
    assert prepared.dbt_vars == {"customers_path": str(path), "customers_encoding": "utf-8",
                                 "customers_csv_delimiter": ";", "customers_csv_quote": '"',
                                 "customers_csv_escape": '"', "customers_csv_max_line_size": 2_000_000}
    mapped = write(tmp_path / "mapped.csv", "crm_no,Ort\n7,K\xf6ln\n", encoding="latin-1")
    prepared = ingest.prepare_customers(mapped, columns="customer_id=CRM_NO")
    assert prepared.mapping == {"customer_id": "crm_no"}
    assert prepared.dbt_vars["customers_columns"] == "customer_id=CRM_NO"
    assert prepared.dbt_vars["customers_encoding"] == "latin-1"


@pytest.mark.parametrize("text, columns, message", [
    ("crm_no,age\n1,30\n", None, "missing required column customer_id in crm.csv; columns found: crm_no, age "
                                 "(map yours with CUSTOMER_COLUMNS="),
    ("crm_no,age\n1,30\n", "customer_id=cust", "CUSTOMER_COLUMNS maps customer_id to 'cust', which is not a column"),
    ("crm_no,age\n1,30\n", "amount=age", "CUSTOMER_COLUMNS: 'amount' is not a canonical column (customer_id)"),
    ("CustomerID,age\n", None, "input file has no data rows, only a header"),
    ("CustomerID\n1\n2\n", None, "cannot read crm.csv as CSV: no delimiter"),  # one column: no attributes
    ('CustomerID,age\n1,30\n"2,40\n3,50\n', None, "cannot read crm.csv as CSV"),  # a quote open to the end
])
def test_customers_file_problems_are_one_line(tmp_path, text, columns, message):
    path = write(tmp_path / "crm.csv", text)
    with pytest.raises(InputError) as raised:
        ingest.prepare_customers(path, columns=columns)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_customers_file_empty_or_utf16_is_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="input file is empty"):
        ingest.prepare_customers(empty)
    utf16 = tmp_path / "crm.csv"
    utf16.write_bytes("CustomerID,age\n1,30\n".encode("utf-16"))
    with pytest.raises(InputError, match="crm.csv is UTF-16 text: save it as UTF-8"):
        ingest.prepare_customers(utf16)


def test_customers_parquet_without_attribute_columns_is_refused(tmp_path):
    import duckdb

    path = tmp_path / "crm.parquet"
    duckdb.sql(f"copy (select 1 as customer_id) to '{path}' (format parquet)")
    with pytest.raises(InputError, match="no attribute columns in crm.parquet besides the customer id customer_id"):
        ingest.prepare_customers(path)


def test_customers_file_with_malformed_lines_passes_the_preflight_for_dbt_to_quarantine(tmp_path):
    """Lines that do not split into the header's fields are quarantined by dbt (malformed_line),
    not refused: the rest of the file is used."""
    path = write(tmp_path / "crm.csv", 'CustomerID,"job ""title"""\n1,nurse\n2,too,many\n3,a stray "quote\n4,pilot\n')
    prepared = ingest.prepare_customers(path)
    assert prepared.columns_found == ["CustomerID", 'job "title"']
    assert prepared.dbt_vars["customers_csv_delimiter"] == ","


def test_mixed_line_ends_with_a_malformed_line_are_one_line_before_dbt(tmp_path):
    """DuckDB's reader stops ("invalid state") on such a file, which would stop the dbt build."""
    path = write_mixed_line_ends(tmp_path / "mixed.csv")
    scan = ingest.scan_lines(path)
    assert (scan.crlf_lines, scan.lf_lines, scan.lines) == (5_001, 25_001, 30_002)
    with pytest.raises(InputError, match=r"^cannot read mixed.csv as CSV: .*invalid state; its lines end in both "
                                         r"CRLF \(5,001 lines\) and LF alone \(25,001\).*dos2unix"):
        ingest.prepare(path)
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))  # one kind of line end: dbt quarantines the line
    assert ingest.prepare(path).dbt_vars["raw_file_lines"] == 30_002
