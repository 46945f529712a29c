"""Every record is accounted for once, whatever its size or place, with or without a final newline.

The independent count behind dbt test rows_add_up_to_file_records comes from the raw bytes
(ingest.scan_lines): DuckDB's CSV reader skips a line longer than its max_line_size without a
trace (the middle of the file too, once past its sniffing sample), so a count by DuckDB is blind
to exactly what it drops.
"""
from __future__ import annotations

import gzip

import pytest

from conftest import build, run_pipeline
from hostile_files import HEADER, outcomes, sample_rows, scalar, write_csv
from rfm_segments import ingest

HUGE = 3_000_000  # bytes; DuckDB's default max_line_size is 2,000,000


def huge_row(invoice: str, width: int = HUGE) -> list[str]:
    return [invoice, "85123A", "W" * width, "6", "2011-12-01 10:00:00", "2.55", "17850.0", "United Kingdom"]


def huge_line(invoice: str) -> str:
    return ",".join(huge_row(invoice))


def test_raw_scan_counts_lines_the_parser_cannot_see(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n\r\n\n3,\"x\ny\"\n" + b"4," + b"z" * 50 + b"\r")
    scan = ingest.scan_lines(path)
    # header, 1,2, 3,"x / y", 4,zzz (no final newline); the blank lines do not count.
    assert (scan.lines, scan.longest_line, scan.encoding) == (5, 53, "utf-8")
    zipped = tmp_path / "lines.csv.gz"
    zipped.write_bytes(gzip.compress(path.read_bytes()))
    assert ingest.scan_lines(zipped).lines == 5


@pytest.fixture(scope="module")
def huge_lines(tmp_path_factory):
    """Huge lines at the start (inside every sniffer's sample), in the middle (past DuckDB's
    sample of 20,480 lines) and a last one without a final newline; one of them malformed."""
    folder = tmp_path_factory.mktemp("huge")
    rows = sample_rows(3000)
    rows = [rows[0], huge_row("900001"), *rows[1:], *rows[1:] * 7]  # 24,000+ lines
    middle = len(rows) - 100
    rows.insert(middle, huge_row("900002"))
    malformed_last = huge_line("900003") + ",one too many"
    path = write_csv(folder / "huge.csv", HEADER, rows, tail=malformed_last)
    return folder, path, len(rows) + 1


def test_huge_lines_anywhere_are_read_or_quarantined_and_the_run_goes_on(huge_lines):
    folder, path, records = huge_lines
    db = build(folder, "--data", str(path))
    counted = outcomes(db)
    assert sum(counted.values()) == records
    assert counted["malformed_line"] == 1
    # DuckDB's rejects table keeps the first 10,000 characters of a line.
    assert scalar(db, "select left(raw_line, 7) || length(raw_line) from marts.rejected_transactions "
                      "where reject_reason = 'malformed_line'") == "900003,10000"
    assert scalar(db, "select count(*) from marts.clean_transactions where length(description) = ?", [HUGE]) == 2


def test_the_add_up_test_checks_against_the_raw_byte_count(tmp_path):
    """Whether DuckDB drops an over-long line silently or into its rejects table depends on where
    its buffers fall, so the check is made deterministic here: one record more in the raw count
    (var raw_file_lines, which the CLI sets from scan_lines) than the parser produced must fail
    rows_add_up_to_file_records (a failed test, not an error) and stop the publish."""
    path = write_csv(tmp_path / "lines.csv", HEADER, sample_rows(3000))
    result = run_pipeline(tmp_path, "run", "--data", str(path), "--vars", "{raw_file_lines: 3002}")
    assert result.returncode == 1
    assert "Failure in test rows_add_up_to_file_records" in result.stdout
    assert "Traceback" not in result.stderr and "nothing was published" in result.stderr
