"""The dbt project's macros rendered for queries outside dbt (rfm_segments.project_macros)."""
from __future__ import annotations

import duckdb

from rfm_segments.project_macros import normalize_customer_id


def test_customer_ids_are_normalised_by_the_dbt_macro_itself():
    sql = normalize_customer_id("id")
    assert "[.]0+$" in sql  # the macro's text, not a copy
    rows = duckdb.sql(f"select id, {sql} from (values ('12923.0'), (' 12923 '), ('12900'), ('007.00'), (''), ('a\"b.0')) as t(id)")
    assert dict(rows.fetchall()) == {"12923.0": "12923", " 12923 ": "12923", "12900": "12900", "007.00": "007",
                                     "": None, 'a"b.0': 'a"b'}
