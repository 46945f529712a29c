"""The dbt project's macros rendered for queries outside dbt (rfm_segments.project_macros)."""
from __future__ import annotations

import duckdb

from rfm_segments.project_macros import normalize_customer_id, render_macro


def test_customer_ids_are_normalised_by_the_dbt_macro_itself():
    sql = normalize_customer_id("id")
    assert "[.]0+$" in sql  # the macro's text, not a copy
    rows = duckdb.sql(f"select id, {sql} from (values ('12923.0'), (' 12923 '), ('12900'), ('007.00'), (''), ('a\"b.0')) as t(id)")
    assert dict(rows.fetchall()) == {"12923.0": "12923", " 12923 ": "12923", "12900": "12900", "007.00": "007",
                                     "": None, 'a"b.0': 'a"b'}


def test_the_line_key_test_counts_repeated_values_on_both_forms():
    """Test unique_line_key's two forms (DuckDB's bitmap, the portable count) agree, nulls allowed."""
    duckdb_form = render_macro("engines/duckdb.sql", "duckdb__line_key_repeats", "lines", "record_number")
    portable_form = render_macro("portable.sql", "default__line_key_repeats", "lines", "record_number")
    assert "bitstring_agg" in duckdb_form
    con = duckdb.connect()
    for values, repeats in [([1, 2, 3, None, None], 0), ([1, 2, 2, 3, 3, 3, None], 3), ([5, 5], 1)]:
        con.execute("create or replace table lines as select unnest(?::bigint[]) as record_number", [values])
        assert con.execute(duckdb_form).fetchone()[0] == repeats
        assert con.execute(portable_form).fetchone()[0] == repeats
    con.execute("create or replace table lines as select cast(null as bigint) as record_number where false")
    assert con.execute(duckdb_form).fetchone()[0] == 0
