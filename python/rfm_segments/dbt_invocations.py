"""Which dbt command last wrote a warehouse, and whether it may be published for BI.

The dbt hooks in dbt_project/macros/dbt_invocations.sql record every `dbt build|run|seed|snapshot`
in the warehouse itself (table main.dbt_invocations): started when it starts, finished with its
counts when it ends. A run killed half-way stays unfinished, so its mix of old and new tables is
never published.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

TABLE = "main.dbt_invocations"


@dataclass(frozen=True)
class Invocation:
    invocation_id: str
    command: str
    selection: str  # '' = the whole project
    started_at: datetime
    finished_at: datetime | None
    nodes: int | None
    not_passed: int | None

    def describe(self) -> str:
        return f"`dbt {self.command}{' ' + self.selection if self.selection else ''}` started {self.started_at:%Y-%m-%d %H:%M:%S} UTC"


def latest(db: Path) -> Invocation | None:
    """The last dbt command that wrote `db`, or None when dbt never recorded one there."""
    with duckdb.connect(str(db), read_only=True) as con:
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'main' and table_name = 'dbt_invocations'"
        ).fetchone()[0]
        if not exists:
            return None
        row = con.execute(
            f"select invocation_id, command, selection, started_at, finished_at, nodes, not_passed "
            f"from {TABLE} order by started_at desc, finished_at desc nulls first limit 1"
        ).fetchone()
    return Invocation(*row) if row else None


def why_not_publishable(invocation: Invocation | None) -> str | None:
    """None when `invocation` is a finished, full `dbt build` whose every node passed; else why not."""
    if invocation is None:
        return "no dbt build is recorded in this warehouse: run `dbt build` first"
    what = invocation.describe()
    if invocation.finished_at is None:
        return f"the last dbt command, {what}, did not finish (stopped or still running): run `dbt build` again"
    if invocation.command != "build" or invocation.selection:
        return (f"the last dbt command that wrote the warehouse was {what}; only a full `dbt build` "
                "(every model and test) is published: run `dbt build`")
    if invocation.not_passed:
        return (f"the last dbt build ({what}) had {invocation.not_passed} of {invocation.nodes} nodes "
                "that did not pass: fix them and run `dbt build` again")
    return None
