"""Quoting for the few places where a value cannot be a bound parameter.

Values from a file or an option are bound (`con.execute(sql, [value])`) wherever DuckDB takes a
parameter. Identifiers (a column named by a CSV header) and the literals of statements that take
no parameters (ATTACH, COPY ... TO, COMMENT ON) go through these two functions, and nowhere else.
"""
from __future__ import annotations


def quote_identifier(name: object) -> str:
    """The name in double quotes, each embedded double quote doubled: it can never close them."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """The value in single quotes, each embedded single quote doubled."""
    return "'" + str(value).replace("'", "''") + "'"
