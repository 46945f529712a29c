"""Headers, values and file names are data: none of them ever becomes SQL text.

A header that closes its identifier quote and appends `COPY ... TO` must not write the file;
odd but honest names (quotes, semicolons, $, #, unicode, very long) just work, mapped or not.
"""
from __future__ import annotations

import pytest

from conftest import build
from hostile_files import HEADER, outcomes, sample_rows, scalar, write_csv
import pandas_reference


def injection(target) -> str:
    """A header that, pasted into `"..."` unescaped, ends the identifier and runs COPY ... TO."""
    return f'x" from (select 1) t; COPY (select 42) TO \'{target}\'; select "x'


ODD_NAMES = ['Notes ("free text")', "semi;colon", "Price ($)", "# of items", "Größe – 尺寸 ✓",
             "quote'single", "L" + "o" * 300 + "ng"]
CUSTOMER_COLUMN = 'Kunde "Nr"; $HOME #1'


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    pwned = [folder / "pwned_description.csv", folder / "pwned_extra.csv"]
    header = list(HEADER)
    header[2] = injection(pwned[0])            # recognised as nothing: read as an extra column
    header[6] = CUSTOMER_COLUMN                # mapped with COLUMNS
    header += [injection(pwned[1]), *ODD_NAMES]
    rows = [row + [f"v{i}" for i in range(len(header) - len(row))] for row in sample_rows()]
    data = write_csv(folder / "it's \"hostile\" $x; #1.csv", header, rows)
    db = build(folder, "--data", str(data), "--columns",
               f"customer_id={CUSTOMER_COLUMN},description={header[2]}")
    return db, pwned, rows


def test_a_header_cannot_run_sql(hostile):
    _, pwned, _ = hostile
    for path in pwned:
        assert not path.exists(), f"a CSV header ran COPY ... TO {path}"


def test_odd_names_are_read_and_every_line_is_accounted_for(hostile):
    db, _, rows = hostile
    assert sum(outcomes(db).values()) == len(rows) == 3000
    # The injection-named column is the description, read as plain text.
    assert scalar(db, "select count(*) from marts.clean_transactions where description = ?",
                  ["SET OF 3 HANGING OWLS OLLIE BEAK"]) > 0


def test_odd_names_give_the_same_segments_as_plain_names(hostile):
    db, _, rows = hostile
    import pandas as pd
    raw = pd.DataFrame([row[:8] for row in rows], columns=HEADER, dtype=str)
    expected = pandas_reference.customer_rfm(raw)
    assert scalar(db, "select count(*) from marts.customer_rfm") == len(expected)
    assert scalar(db, "select sum(frequency) from marts.customer_rfm") == expected["frequency"].sum()
