"""Preflight for the user's transactions file, before dbt touches the warehouse.

`prepare()` checks that the file exists, can be read, is of a known format, has data rows and
has the columns the pipeline needs, and turns what it found into dbt vars (macro
raw_transaction_columns in dbt_project/ applies the same column rules for people who run dbt
themselves). It reads headers, metadata and the first rows only: DuckDB streams the data later.
Every problem is an `InputError` with one line that names it, so the last good marts stay as
they were. Excel workbooks are the exception that is converted: DuckDB has no built-in .xlsx
reader, so the sheets are written row by row into one CSV next to the warehouse (calamine holds
one sheet, at most 1,048,576 rows, in memory at a time).
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"
CANONICAL = ("invoice_id", "stock_code", "description", "quantity", "invoice_date",
             "unit_price", "amount", "customer_id", "country")
CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
DATE_CHECK_ROWS = 1000
SNIFF_LINES = 2000
DELIMITERS = (",", ";", "\t", "|")


class InputError(Exception):
    """A problem with the user's input file or options; printed as one line."""


@dataclass
class PreparedInput:
    path: Path                      # the file dbt reads (a converted CSV for a workbook)
    kind: str                       # csv, parquet or xlsx
    columns_found: list[str]
    mapping: dict[str, str]         # canonical -> the file's column
    dbt_vars: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def normalized(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def column_aliases() -> dict[str, list[str]]:
    """The recognised names: var raw_column_aliases in dbt_project.yml, the one list both use."""
    project = yaml.safe_load(DBT_PROJECT_FILE.read_text())
    aliases = project.get("vars", {}).get("raw_column_aliases", {}) or {}
    return {canonical: [canonical.replace("_", ""), *(aliases.get(canonical) or [])] for canonical in CANONICAL}


def parse_mapping(text: str | None) -> dict[str, str]:
    """'customer_id=cust_no,amount=total' -> {'customer_id': 'cust_no', 'amount': 'total'}."""
    mapping: dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        if "=" not in pair:
            raise InputError(f"COLUMNS: '{pair.strip()}' is not canonical=theirs (e.g. customer_id=cust_no)")
        canonical, theirs = (part.strip() for part in pair.split("=", 1))
        if canonical not in CANONICAL:
            raise InputError(f"COLUMNS: '{canonical}' is not a canonical column ({', '.join(CANONICAL)})")
        mapping[canonical] = theirs
    return mapping


def resolve_columns(found: list[str], given: dict[str, str], source: Path) -> dict[str, str]:
    """Canonical -> file column, by the user's mapping, else by name; raises when required ones are missing."""
    listing = ", ".join(found)
    resolved: dict[str, str] = {}
    for canonical, names in column_aliases().items():
        if canonical in given:
            wanted = given[canonical]
            matches = [c for c in found if c == wanted] or [c for c in found if c.lower() == wanted.lower()]
            if not matches:
                raise InputError(f"COLUMNS maps {canonical} to '{wanted}', which is not a column of "
                                 f"{source.name}; columns found: {listing}")
            resolved[canonical] = matches[0]
        else:
            match = next((c for c in found if normalized(c) in names), None)
            if match is not None:
                resolved[canonical] = match
    missing = [c for c in ("customer_id", "invoice_date") if c not in resolved]
    if "amount" not in resolved and not {"quantity", "unit_price"} <= resolved.keys():
        missing.append("amount (or quantity and unit_price)")
    if missing:
        raise InputError(f"missing required column {', '.join(missing)} in {source.name}; columns found: "
                         f"{listing} (map yours with COLUMNS=\"customer_id=cust_no,...\")")
    return resolved


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def first_error_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(f"input file not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a folder, not a file: {path}")
    try:
        with open(path, "rb") as handle:
            first = handle.read(1)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    if not first:
        raise InputError(f"input file is empty: {path}")


def file_kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    suffix = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) == 2 else (suffixes or [""])[-1]
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".xls":
        raise InputError(f"{path.name} is an old .xls workbook: save it as .xlsx or CSV")
    raise InputError(f"unknown format '{suffix or path.name}' of {path}: use CSV (.csv, .txt, .tsv), "
                     "Parquet (.parquet) or Excel (.xlsx)")


def detect_encoding(path: Path) -> str:
    """utf-8 when the whole file decodes as UTF-8, else latin-1 (which decodes any bytes)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        try:
            while chunk := handle.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def sniff_dialect(path: Path, encoding: str) -> dict[str, str]:
    """The delimiter under which most of the first lines have as many fields as the header.

    DuckDB's sniffer is not used here: with a few malformed lines in its sample it settles on a
    one-column dialect (strict) or on a wrong quote character (ignore_errors). Quoting is the
    RFC 4180 one ('"', doubled to escape), which also reads files without quotes."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding=encoding, newline="") as handle:
        sample = list(itertools.islice(handle, SNIFF_LINES))
    best, best_share = None, 0.0
    for delimiter in DELIMITERS:
        rows = list(csv.reader(sample, delimiter=delimiter, quotechar='"', doublequote=True, strict=False))
        if not rows or len(rows[0]) < 2:
            continue
        share = sum(len(row) == len(rows[0]) for row in rows) / len(rows)
        if share > best_share:
            best, best_share = delimiter, share
    if best is None:
        raise InputError(f"cannot read {path.name} as CSV: no delimiter ({' '.join(map(repr, DELIMITERS))}) "
                         "splits its first line into columns")
    return {"raw_csv_delimiter": best, "raw_csv_quote": '"', "raw_csv_escape": '"'}


def csv_reader(path: Path, options: dict) -> str:
    """The same read_csv call as the dbt source (models/staging/_sources.yml)."""
    args = [sql_text(str(path)), "header = true", "all_varchar = true", "ignore_errors = true",
            f"encoding = {sql_text(options['raw_encoding'])}", f"quote = {sql_text(options['raw_csv_quote'])}",
            f"delim = {sql_text(options['raw_csv_delimiter'])}"]
    if options.get("raw_csv_escape"):
        args.append(f"escape = {sql_text(options['raw_csv_escape'])}")
    return f"read_csv({', '.join(args)})"


def check_dates(con, reader: str, column: str, date_format: str | None, source: Path) -> None:
    """Fails early when none of the first dates parses: every row would be rejected."""
    quoted = '"' + column.replace('"', '""') + '"'
    column_type = con.execute(f"select typeof({quoted}) from {reader} limit 1").fetchone()
    if column_type and column_type[0].upper().startswith(("DATE", "TIMESTAMP")):
        return
    text = f"nullif(trim(cast({quoted} as varchar)), '')"
    parse = (f"try_strptime({text}, {sql_text(date_format)})" if date_format
             else f"try_cast({text} as timestamp)")
    parsed, example = con.execute(
        f"select count({parse}), min({text}) from (select * from {reader} limit {DATE_CHECK_ROWS})"
    ).fetchone()
    if parsed or example is None:
        return
    if date_format:
        raise InputError(f"DATE_FORMAT '{date_format}' matches none of the first {DATE_CHECK_ROWS:,} dates "
                         f"in column {column} of {source.name} (e.g. '{example}')")
    raise InputError(f"dates in column {column} of {source.name} such as '{example}' are not ISO "
                     "(YYYY-MM-DD[ HH:MM:SS]): give DATE_FORMAT with strptime codes, e.g. DATE_FORMAT='%d/%m/%Y'")


def convert_workbook(path: Path, out: Path) -> tuple[list[str], list[str]]:
    """Streams every sheet whose header matches the first sheet's into one CSV (all text).
    Returns the sheets read and the sheets skipped."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own error types for damaged files
        raise InputError(f"cannot read {path.name} as an Excel workbook: {first_error_line(error)}") from None

    def text(value) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, dt.datetime):
            return value.isoformat(sep=" ")
        if isinstance(value, (dt.date, dt.time)):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # numeric cells: invoice 536365, not 536365.0
        return str(value)

    header: list[str] | None = None
    read, skipped = [], []
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for name in workbook.sheet_names:
            rows = workbook.get_sheet_by_name(name).iter_rows()
            first = next(rows, None)
            if first is None:
                continue
            names = [text(value).strip() for value in first]
            while names and not names[-1]:
                names.pop()
            if header is None:
                header = names
                writer.writerow(header)
            elif [normalized(n) for n in names] != [normalized(n) for n in header]:
                skipped.append(name)
                continue
            read.append(name)
            width = len(header)
            for row in rows:
                values = [text(value) for value in row[:width]]
                if any(values):
                    writer.writerow(values + [""] * (width - len(values)))
    if header is None:
        raise InputError(f"input workbook has no rows: {path}")
    return read, skipped


def prepare(data: str | os.PathLike, columns: str | None = None, date_format: str | None = None,
            work_dir: Path | None = None) -> PreparedInput:
    source = Path(data).resolve()
    check_readable(source)
    kind = file_kind(source)
    given = parse_mapping(columns)
    notes: list[str] = []
    path = source
    dbt_vars: dict = {}
    con = duckdb.connect()
    try:
        if kind == "xlsx":
            path = (work_dir or source.parent) / "converted" / f"{source.stem}.csv"
            read, skipped = convert_workbook(source, path)
            notes.append(f"read sheet(s) {', '.join(read)} of {source.name} into {path}")
            if skipped:
                notes.append(f"skipped sheet(s) {', '.join(skipped)}: their columns differ from the first sheet's")
        if kind in ("csv", "xlsx"):
            encoding = "utf-8" if kind == "xlsx" else detect_encoding(path)
            dbt_vars = {"raw_encoding": encoding, **sniff_dialect(path, encoding)}
            reader = csv_reader(path, dbt_vars)
            if encoding != "utf-8":
                notes.append(f"{source.name} is not UTF-8: read as {encoding}")
        else:
            reader = f"read_parquet({sql_text(str(path))})"
        try:
            found = [row[0] for row in con.execute(f"describe select * from {reader}").fetchall()]
            has_rows = con.execute(f"select count(*) from (select 1 from {reader} limit 1)").fetchone()[0]
        except duckdb.Error as error:
            raise InputError(f"cannot read {source.name} as {kind.upper()}: {first_error_line(error)}") from None
        if not has_rows:
            raise InputError(f"input file has no data rows, only a header: {source}")
        mapping = resolve_columns(found, given, source)
        check_dates(con, reader, mapping["invoice_date"], date_format, source)
    finally:
        con.close()
    dbt_vars.update(raw_path=str(path))
    if columns:
        dbt_vars["raw_columns"] = columns
    if date_format:
        dbt_vars["raw_date_format"] = date_format
    return PreparedInput(path=path, kind=kind, columns_found=found, mapping=mapping,
                         dbt_vars=dbt_vars, notes=notes)


def all_rejected_message(db: Path) -> str | None:
    """After a failed build: when no line was valid (test some_lines_are_valid_sales), says so
    with the counts by reason; None when that was not the failure."""
    if not db.exists():
        return None
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            counts = con.execute(
                "select coalesce(reject_reason, 'valid'), count(*) "
                "from intermediate.int_transaction_lines_classified group by 1 order by 2 desc, 1"
            ).fetchall()
    except duckdb.Error:
        return None
    if not counts or any(reason == "valid" for reason, _ in counts):
        return None
    total = sum(count for _, count in counts)
    by_reason = ", ".join(f"{reason} {count:,}" for reason, count in counts)
    rows = "the only row was" if total == 1 else f"every one of the {total:,} rows was"
    return (f"{rows} rejected ({by_reason}); the marts were left as they were "
            "(see intermediate.int_transaction_lines_classified)")
