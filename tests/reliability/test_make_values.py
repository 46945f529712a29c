"""`make run DATA=... COLUMNS=... DATE_FORMAT=...` passes the values byte for byte: no make or
shell expansion of $, #, quotes, spaces or backticks (a backtick once ran a command)."""
from __future__ import annotations

import os
import subprocess

from conftest import REPO
from hostile_files import HEADER, outcomes, sample_rows, write_csv

ODD = "it's \"my\" $HOME #1 `touch PWNED` $(shell touch PWNED)"


def make(tmp_path, *args, **environment):
    env = dict(os.environ, SEGMENTS_DB=str(tmp_path / "segments.duckdb"),
               DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"), **environment)
    env.pop("SEGMENTS_SERVING_DIR", None)
    env.pop("MAKEFLAGS", None)
    return subprocess.run(["make", "--no-print-directory", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def test_make_run_passes_data_columns_and_date_format_byte_for_byte(tmp_path):
    header = list(HEADER)
    header[6] = f"Kunde {ODD}"
    rows = [row[:4] + ["#" + row[4] + "$"] + row[5:] for row in sample_rows(3000)]
    data = write_csv(tmp_path / f"orders {ODD}.csv", header, rows)
    result = make(tmp_path, "-f", str(REPO / "Makefile"), "-C", str(REPO), "run", f"DATA={data}",
                  f"COLUMNS=customer_id=Kunde {ODD}", "DATE_FORMAT=#%Y-%m-%d %H:%M:%S$")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert not (REPO / "PWNED").exists() and not (tmp_path / "PWNED").exists()
    counted = outcomes(tmp_path / "segments.duckdb")
    assert sum(counted.values()) == 3000 and counted["valid"] == 2717

    literal = ODD.replace("'", "''")
    query = make(tmp_path, "-C", str(REPO), "query", f"SQL=select '{literal}' as odd, count(*) as n from marts.customer_rfm")
    assert query.returncode == 0, query.stderr
    assert ODD in query.stdout and "1410" in query.stdout.replace(",", "")


def test_make_run_passes_customers_and_their_columns_byte_for_byte(tmp_path):
    """CUSTOMERS and CUSTOMER_COLUMNS like DATA: and a header with quotes names an attribute safely,
    in the profiles and, with CLUSTER_ON_ATTRIBUTES=1, in the clustering; a code with leading zeros
    stays a category."""
    rows = sample_rows(3000)
    data = write_csv(tmp_path / "orders.csv", list(HEADER), rows)
    customers = sorted({row[6] for row in rows if row[6]})
    crm = write_csv(tmp_path / f"crm {ODD}.csv", [f"Kunde {ODD}", ODD, f"zip {ODD}"],
                    [[customer, "yes" if i % 2 else "no", f"{i % 40:05d}"] for i, customer in enumerate(customers)])
    result = make(tmp_path, "-f", str(REPO / "Makefile"), "-C", str(REPO), "run", f"DATA={data}",
                  f"CUSTOMERS={crm}", f"CUSTOMER_COLUMNS=customer_id=Kunde {ODD}", "CLUSTER_ON_ATTRIBUTES=1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert not (REPO / "PWNED").exists() and not (tmp_path / "PWNED").exists()
    import duckdb

    with duckdb.connect(str(tmp_path / "segments.duckdb"), read_only=True) as con:
        values = con.execute("select attribute_value, count(*) from intermediate.int_customer_attributes "
                             "where attribute_name = ? group by 1 order by 1", [ODD]).fetchall()
        types = dict(con.execute("select distinct attribute_name, attribute_type from intermediate.int_customer_attributes").fetchall())
        features = con.execute("select category from clustering.cluster_attribute_features "
                               "where attribute_name = ? order by 1", [ODD]).fetchall()
    assert [value for value, _ in values] == ["no", "yes"] and sum(n for _, n in values) > 100
    assert types == {ODD: "categorical", f"zip {ODD}": "categorical", "country": "categorical"}
    assert features == [("no",), ("yes",)]


def test_an_exported_columns_is_the_terminal_width_not_a_column_mapping(tmp_path):
    """Shells and test runners export COLUMNS (the terminal's width): `make run` must not pass it
    as the column mapping; only `make run COLUMNS=...` sets one (make -n: the command, not run)."""
    exported = make(tmp_path, "-n", "-C", str(REPO), "run", COLUMNS="80")
    assert exported.returncode == 0, exported.stderr
    assert "-m rfm_segments run" in exported.stdout and "--columns" not in exported.stdout, exported.stdout
    given = make(tmp_path, "-n", "-C", str(REPO), "run", "COLUMNS=customer_id=cust_no", COLUMNS="80")
    assert given.returncode == 0, given.stderr
    assert "--columns 'customer_id=cust_no'" in given.stdout, given.stdout
