"""One bad date or number never moves the as-of date nor aborts the run: it is rejected with a reason.

The clock is set (env SEGMENTS_RUN_DATE) so that the verdicts do not depend on today.
"""
from __future__ import annotations

import datetime as dt
import os

import pytest

from conftest import REPO
from hostile_files import HEADER, outcomes, sample_rows, scalar, write_csv

import subprocess
import sys

RUN_DATE = "2012-01-15"


def line(invoice: str, when: str, quantity: str = "6", price: str = "2.55") -> list[str]:
    return [invoice, "85123A", "TEST", quantity, when, price, "17850.0", "United Kingdom"]


BAD_LINES = {
    "future_date": [line("800001", "2031-06-01 10:00:00"), line("800002", "9999-12-31"),
                    line("800003", "2012-01-16 00:00:00")],
    "implausible_date": [line("800011", "0001-01-01"), line("800012", "1850-03-01 12:00:00"),
                         line("800013", "1900-01-01")],
    "number_out_of_range": [line("800021", "2011-05-05 10:00:00", quantity="1e20"),
                            line("800022", "2011-05-05 10:00:00", price="1e308"),
                            line("800023", "2011-05-05 10:00:00", quantity="99999999999999999999"),
                            line("800024", "2011-05-05 10:00:00", quantity="1000000000", price="1000000")],
}
OFFSET_LINES = [line("800031", "2011-06-01 01:30:00+02:00"), line("800032", "2011-06-01T22:30:00Z")]


def run(folder, data, *args):
    env = dict(os.environ, SEGMENTS_RUN_DATE=RUN_DATE, DBT_TARGET_PATH=str(folder / "target"),
               DBT_LOG_PATH=str(folder / "logs"))
    env.pop("SEGMENTS_SERVING_DIR", None)
    return subprocess.run([sys.executable, "-m", "rfm_segments", "--db", str(folder / "segments.duckdb"),
                           "run", "--data", str(data), *args], cwd=REPO, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dates")
    rows = sample_rows(3000)
    bad = [row for rows_ in BAD_LINES.values() for row in rows_]
    data = write_csv(folder / "dates.csv", HEADER, rows[:1500] + bad + OFFSET_LINES + rows[1500:])
    result = run(folder, data)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder, data, folder / "segments.duckdb"


def test_bad_dates_and_numbers_are_rejected_with_their_reasons(dated):
    _, _, db = dated
    counted = outcomes(db)
    for reason, rows in BAD_LINES.items():
        assert counted.get(reason) == len(rows), (reason, counted)
    assert sum(counted.values()) == 3000 + sum(map(len, BAD_LINES.values())) + len(OFFSET_LINES)


def test_one_bad_line_never_moves_the_as_of_date(dated):
    _, _, db = dated
    # The real sample's last sale is 2011-12-09.
    assert scalar(db, "select max(as_of_date) from marts.customer_segments") == dt.date(2011, 12, 10)


def test_time_zone_offsets_are_converted_to_utc(dated):
    _, _, db = dated
    got = dict((invoice, when) for invoice, when in [
        (row, scalar(db, "select invoiced_at from marts.clean_transactions where invoice_id = ?", [row]))
        for row in ("800031", "800032")])
    assert got == {"800031": dt.datetime(2011, 5, 31, 23, 30), "800032": dt.datetime(2011, 6, 1, 22, 30)}


def test_an_explicit_as_of_date_still_works(dated, tmp_path):
    _, data, _ = dated
    result = run(tmp_path, data, "--vars", "{as_of_date: '2011-12-31'}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert scalar(tmp_path / "segments.duckdb",
                  "select max(as_of_date) from marts.customer_segments") == dt.date(2011, 12, 31)
