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
import errno
import gzip
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from rfm_segments.project_vars import project_vars
from rfm_segments.sql_quoting import quote_identifier

CANONICAL = ("invoice_id", "stock_code", "description", "quantity", "invoice_date",
             "unit_price", "amount", "customer_id", "country")
CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
DATE_CHECK_ROWS = 1000
SNIFF_LINES = 2000
SNIFF_BYTES = 1 << 20           # the dialect sniff reads at most this much, however long the lines
SCAN_CHUNK = 1 << 24
#: DuckDB's default; raised to the file's longest line so that no line is skipped for its size.
DEFAULT_MAX_LINE_SIZE = 2_000_000
#: Beyond this a single line is refused in one message instead of being read into memory.
MAX_LINE_SIZE_LIMIT = 1 << 30
# UTF-32 first: its little-endian mark starts with UTF-16's.
BYTE_ORDER_MARKS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
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
    aliases = project_vars().get("raw_column_aliases") or {}
    return {canonical: [canonical.replace("_", ""), *(aliases.get(canonical) or [])] for canonical in CANONICAL}


def parse_mapping(text: str | None, allowed: tuple[str, ...] = CANONICAL, option: str = "COLUMNS") -> dict[str, str]:
    """'customer_id=cust_no,amount=total' -> {'customer_id': 'cust_no', 'amount': 'total'}."""
    mapping: dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        if "=" not in pair:
            raise InputError(f"{option}: '{pair.strip()}' is not canonical=theirs (e.g. customer_id=cust_no)")
        canonical, theirs = (part.strip() for part in pair.split("=", 1))
        if canonical not in allowed:
            raise InputError(f"{option}: '{canonical}' is not a canonical column ({', '.join(allowed)})")
        mapping[canonical] = theirs
    return mapping


def find_column(found: list[str], canonical: str, given: dict[str, str], source: Path,
                option: str = "COLUMNS") -> str | None:
    """The file column for `canonical`: the one the user's mapping names (exact, else any case), else
    the first whose normalised name is the canonical name or an alias (macro find_file_column)."""
    if canonical in given:
        wanted = given[canonical]
        matches = [c for c in found if c == wanted] or [c for c in found if c.lower() == wanted.lower()]
        if not matches:
            raise InputError(f"{option} maps {canonical} to '{wanted}', which is not a column of "
                             f"{source.name}; columns found: {', '.join(found)}")
        return matches[0]
    names = column_aliases()[canonical]
    return next((c for c in found if normalized(c) in names), None)


def resolve_columns(found: list[str], given: dict[str, str], source: Path) -> dict[str, str]:
    """Canonical -> file column, by the user's mapping, else by name; raises when required ones are missing."""
    listing = ", ".join(found)
    resolved: dict[str, str] = {}
    for canonical in CANONICAL:
        match = find_column(found, canonical, given, source)
        if match is not None:
            resolved[canonical] = match
    missing = [c for c in ("customer_id", "invoice_date") if c not in resolved]
    if "amount" not in resolved and not {"quantity", "unit_price"} <= resolved.keys():
        missing.append("amount (or quantity and unit_price)")
    if missing:
        raise InputError(f"missing required column {', '.join(missing)} in {source.name}; columns found: "
                         f"{listing} (map yours with COLUMNS=\"customer_id=cust_no,...\")")
    return resolved


def first_error_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def resolve_input(data: str | os.PathLike) -> Path:
    """The absolute path of the input; a symlink loop or a broken link is one line."""
    try:
        return Path(data).resolve(strict=True)
    except FileNotFoundError:
        raise InputError(f"input file not found: {Path(data).absolute()}") from None
    except (RuntimeError, OSError) as error:  # RuntimeError: Python < 3.13 on a symlink loop
        loop = isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP
        reason = "symbolic link loop (fix or remove the link)" if loop else error.strerror
        raise InputError(f"cannot open {Path(data).absolute()}: {reason}") from None


def check_readable(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"input is a folder, not a file: {path}")
    try:
        with open(path, "rb") as handle:
            first = handle.read(4)
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


def open_bytes(path: Path):
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")


@dataclass
class LineScan:
    """What one pass over the raw bytes (not the CSV parser) found."""
    encoding: str        # utf-8, or latin-1 when the bytes are not valid UTF-8
    lines: int           # non-blank physical lines, a last one without a final newline included
    longest_line: int    # bytes
    crlf_lines: int = 0  # line breaks that are CR LF
    lf_lines: int = 0    # line breaks that are LF alone (both nonzero: mixed line ends)


def scan_lines(path: Path) -> LineScan:
    """Counts the non-blank lines and measures the longest one from the raw bytes, and checks
    that they decode as UTF-8. The count is the independent side of dbt test
    rows_add_up_to_file_records: a line the CSV reader skipped (too long, last without a
    newline) still counts here. Streams in 16 MiB chunks (numpy finds the line breaks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding, lines, longest = "utf-8", 0, 0
    carry_len, carry_blank, newline = 0, True, None
    crlf, last_byte, breaks_seen = 0, 0, 0
    try:
        with open_bytes(path) as handle:
            while chunk := handle.read(SCAN_CHUNK):
                if encoding == "utf-8":
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        encoding = "latin-1"
                if newline is None:  # old Mac files end lines with CR alone
                    newline = 13 if b"\n" not in chunk and b"\r" in chunk else 10
                data = np.frombuffer(chunk, dtype=np.uint8)
                breaks = np.flatnonzero(data == newline)
                if not len(breaks):
                    carry_len += len(data)
                    carry_blank = carry_blank and bool(np.all(data == 13))
                    continue
                starts = np.concatenate(([0], breaks[:-1] + 1))
                lengths = breaks - starts
                ends_in_cr = data[np.maximum(breaks - 1, 0)] == 13
                ends_in_cr[0] = data[breaks[0] - 1] == 13 if breaks[0] else last_byte == 13
                if newline == 10:
                    crlf += int(np.count_nonzero(ends_in_cr))
                blank = (lengths == 0) | ((lengths == 1) & ends_in_cr)
                blank[0] = carry_blank and bool(np.all(data[:breaks[0]] == 13))
                lengths[0] += carry_len
                lines += int(np.count_nonzero(~blank))
                longest = max(longest, int(lengths.max()))
                tail = data[breaks[-1] + 1:]
                carry_len, carry_blank = len(tail), bool(np.all(tail == 13))
                last_byte = int(data[-1])
                breaks_seen += len(breaks)
            if encoding == "utf-8":
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    encoding = "latin-1"
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(unreadable_message(path, error)) from None
    if not carry_blank:
        lines += 1
        longest = max(longest, carry_len)
    lf = breaks_seen - crlf if newline == 10 else 0
    return LineScan(encoding, lines, longest, crlf, lf)


def unreadable_message(path: Path, error: Exception) -> str:
    if path.suffix.lower() == ".gz" and isinstance(error, (EOFError, zlib.error, gzip.BadGzipFile)):
        return (f"{path.name} is a damaged or truncated gzip file ({first_error_line(error)}): "
                "compress it again or give the uncompressed file")
    return f"cannot read {path}: {getattr(error, 'strerror', None) or first_error_line(error)}"


def check_text_encoding(path: Path) -> None:
    """UTF-16 and UTF-32 (told by their byte-order mark, or by NUL bytes) are refused in one line:
    DuckDB reads UTF-8 and Latin-1 here, and NUL bytes would otherwise reach the messages."""
    try:
        with open_bytes(path) as handle:
            head = handle.read(4096)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(unreadable_message(path, error)) from None
    for mark, name in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            raise InputError(f"{path.name} is {name} text: save it as UTF-8 (or Latin-1) CSV, "
                             "e.g. iconv -f " + name + " -t UTF-8 in > out.csv")
    if b"\x00" in head:
        raise InputError(f"{path.name} has NUL bytes in its first lines: it looks like UTF-16/UTF-32 "
                         "without a byte-order mark or a binary file; save it as UTF-8 CSV")


def sniff_dialect(path: Path, encoding: str) -> dict[str, str]:
    """The delimiter under which most of the first lines have as many fields as the header.

    DuckDB's sniffer is not used here: with a few malformed lines in its sample it settles on a
    one-column dialect (strict) or on a wrong quote character (ignore_errors). Quoting is the
    RFC 4180 one ('"', doubled to escape), which also reads files without quotes. Reads at most
    SNIFF_BYTES, so a huge first field or line costs no memory and no csv field-size error."""
    with open_bytes(path) as handle:
        head = handle.read(SNIFF_BYTES + 1)
    text = head[:SNIFF_BYTES].decode(encoding, errors="replace")
    sample = text.splitlines(keepends=True)
    if len(head) > SNIFF_BYTES and len(sample) > 1:
        sample.pop()  # cut off mid-line
    sample = sample[:SNIFF_LINES]
    csv.field_size_limit(max(csv.field_size_limit(), SNIFF_BYTES + 1))
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


@dataclass
class Reader:
    """A DuckDB table function over the input, its values as bound parameters ($name)."""
    sql: str
    params: dict

    def run(self, con, select: str, **more):
        """`select` has `{reader}` where the file goes; `more` binds further $names."""
        return con.execute(select.format(reader=self.sql), {**self.params, **more})


def csv_reader(path: Path, options: dict) -> Reader:
    """The same read_csv call as the dbt source (models/staging/retail/_retail__sources.yml)."""
    params = {"raw_path": str(path), "raw_encoding": options["raw_encoding"],
              "raw_csv_quote": options["raw_csv_quote"], "raw_csv_delimiter": options["raw_csv_delimiter"],
              "raw_csv_max_line_size": options.get("raw_csv_max_line_size", DEFAULT_MAX_LINE_SIZE)}
    args = ["$raw_path", "header = true", "all_varchar = true", "ignore_errors = true",
            "encoding = $raw_encoding", "quote = $raw_csv_quote", "delim = $raw_csv_delimiter",
            "max_line_size = $raw_csv_max_line_size"]
    if options.get("raw_csv_escape"):
        args.append("escape = $raw_csv_escape")
        params["raw_csv_escape"] = options["raw_csv_escape"]
    return Reader(f"read_csv({', '.join(args)})", params)


def check_dates(con, reader: Reader, column: str, date_format: str | None, source: Path) -> None:
    """Fails early when none of the first dates parses: every row would be rejected."""
    quoted = quote_identifier(column)
    column_type = reader.run(con, f"select typeof({quoted}) from {{reader}} limit 1").fetchone()
    if column_type and column_type[0].upper().startswith(("DATE", "TIMESTAMP")):
        return
    text = f"nullif(trim(cast({quoted} as varchar)), '')"
    parse = f"try_strptime({text}, $date_format)" if date_format else f"try_cast({text} as timestamp)"
    parsed, example = reader.run(
        con, f"select count({parse}), min({text}) from (select * from {{reader}} limit {DATE_CHECK_ROWS})",
        **({"date_format": date_format} if date_format else {}),
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


@dataclass
class OpenedInput:
    path: Path                      # the file dbt reads (a converted CSV for a workbook)
    reader: Reader
    columns_found: list[str]
    dbt_vars: dict                  # the file's encoding and CSV dialect, as raw_* vars
    notes: list[str]


def open_input(source: Path, kind: str, work_dir: Path | None, con, read_all: bool = False) -> OpenedInput:
    """Checks a file's format, encoding and dialect and that it has data rows; returns a reader.
    read_all parses every line (the small customers file); a transactions file is parsed whole only
    when its line ends are mixed, the one case its scan shows would stop the reader in dbt."""
    notes: list[str] = []
    path = source
    dbt_vars: dict = {}
    mixed = ""  # a hint for a reader error: the line ends are mixed
    if kind == "xlsx":
        path = (work_dir or source.parent) / "converted" / f"{source.stem}.csv"
        read, skipped = convert_workbook(source, path)
        notes.append(f"read sheet(s) {', '.join(read)} of {source.name} into {path}")
        if skipped:
            notes.append(f"skipped sheet(s) {', '.join(skipped)}: their columns differ from the first sheet's")
    if kind in ("csv", "xlsx"):
        check_text_encoding(path)
        scan = scan_lines(path)
        if scan.longest_line > MAX_LINE_SIZE_LIMIT:
            raise InputError(f"{source.name} has a line of {scan.longest_line:,} bytes, over the "
                             f"{MAX_LINE_SIZE_LIMIT:,}-byte limit: is it really a line-per-record CSV?")
        dbt_vars = {"raw_encoding": scan.encoding, **sniff_dialect(path, scan.encoding),
                    "raw_file_lines": scan.lines,
                    "raw_csv_max_line_size": max(DEFAULT_MAX_LINE_SIZE, scan.longest_line + 1024)}
        reader = csv_reader(path, dbt_vars)
        if scan.crlf_lines and scan.lf_lines:
            mixed = (f"; its lines end in both CRLF ({scan.crlf_lines:,} lines) and LF alone ({scan.lf_lines:,}), "
                     "which with a malformed line stops DuckDB's CSV reader: give all lines the same ending "
                     "(e.g. dos2unix) and run again")
        if scan.encoding != "utf-8":
            notes.append(f"{source.name} is not UTF-8: read as {scan.encoding}")
    else:
        reader = Reader("read_parquet($raw_path)", {"raw_path": str(path)})
    try:
        found = [row[0] for row in reader.run(con, "describe select * from {reader}").fetchall()]
        has_rows = reader.run(con, "select count(*) from (select 1 from {reader} limit 1)").fetchone()[0]
        # a line the reader skips is quarantined by dbt; what it cannot skip (a quote left open to
        # the end, a malformed line among mixed line ends) would stop the dbt build: fatal here
        if read_all or mixed:
            reader.run(con, "select count(*) from {reader}").fetchone()
    except duckdb.Error as error:
        cause = first_error_line(error).rstrip(".") if mixed else first_error_line(error)
        raise InputError(f"cannot read {source.name} as {kind.upper()}: {cause}{mixed}") from None
    if not has_rows:
        raise InputError(f"input file has no data rows, only a header: {source}")
    return OpenedInput(path, reader, found, dbt_vars, notes)


def prepare(data: str | os.PathLike, columns: str | None = None, date_format: str | None = None,
            work_dir: Path | None = None) -> PreparedInput:
    source = resolve_input(data)
    check_readable(source)
    kind = file_kind(source)
    given = parse_mapping(columns)
    con = duckdb.connect()
    try:
        opened = open_input(source, kind, work_dir, con)
        mapping = resolve_columns(opened.columns_found, given, source)
        check_dates(con, opened.reader, mapping["invoice_date"], date_format, source)
    finally:
        con.close()
    dbt_vars = {**opened.dbt_vars, "raw_path": str(opened.path)}
    if columns:
        dbt_vars["raw_columns"] = columns
    if date_format:
        dbt_vars["raw_date_format"] = date_format
    return PreparedInput(path=opened.path, kind=kind, columns_found=opened.columns_found, mapping=mapping,
                         dbt_vars=dbt_vars, notes=opened.notes)


#: The customer attributes file's dbt vars (source crm.customer_attributes) for the transactions' ones.
CUSTOMER_FILE_VARS = {"raw_encoding": "customers_encoding", "raw_csv_delimiter": "customers_csv_delimiter",
                      "raw_csv_quote": "customers_csv_quote", "raw_csv_escape": "customers_csv_escape",
                      "raw_csv_max_line_size": "customers_csv_max_line_size"}


def prepare_customers(data: str | os.PathLike, columns: str | None = None,
                      work_dir: Path | None = None) -> PreparedInput:
    """Preflight of the optional customer attributes file (a CRM export, one row per customer id,
    any attribute columns): the same checks as the transactions', the id column found by name
    or by `columns` ('customer_id=crm_no'). One-line errors only for what makes the file unusable;
    malformed lines and duplicate, missing and unknown ids are not errors: dbt quarantines those
    rows with a reason (marts.rejected_customer_attributes)."""
    source = resolve_input(data)
    check_readable(source)
    kind = file_kind(source)
    given = parse_mapping(columns, allowed=("customer_id",), option="CUSTOMER_COLUMNS")
    con = duckdb.connect()
    try:
        opened = open_input(source, kind, work_dir, con, read_all=True)
    finally:
        con.close()
    found = opened.columns_found
    id_column = find_column(found, "customer_id", given, source, option="CUSTOMER_COLUMNS")
    if id_column is None:
        raise InputError(f"missing required column customer_id in {source.name}; columns found: "
                         f"{', '.join(found)} (map yours with CUSTOMER_COLUMNS=\"customer_id=crm_no\")")
    if len(found) < 2:
        raise InputError(f"no attribute columns in {source.name} besides the customer id {id_column}")
    dbt_vars = {CUSTOMER_FILE_VARS[name]: value for name, value in opened.dbt_vars.items()
                if name in CUSTOMER_FILE_VARS}
    dbt_vars["customers_path"] = str(opened.path)
    if columns:
        dbt_vars["customers_columns"] = columns
    return PreparedInput(path=opened.path, kind=kind, columns_found=found, mapping={"customer_id": id_column},
                         dbt_vars=dbt_vars, notes=opened.notes)


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
