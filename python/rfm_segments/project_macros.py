"""The dbt project's own SQL macros, rendered for the few queries the package runs outside dbt.

A rule written once as a dbt macro (dbt_project/macros/) stays the one definition: Python renders
the macro with plain Jinja instead of keeping a second copy. Only macros that use nothing of dbt's
context (no ref, var, adapter) can be rendered this way.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros"


@lru_cache(maxsize=None)
def _module(file_name: str) -> Any:
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        (MACROS / file_name).read_text(encoding="utf-8")).module


def render_macro(file_name: str, macro: str, *args: str) -> str:
    """The SQL macro `macro` of dbt_project/macros/`file_name` called with `args`, as text."""
    return str(getattr(_module(file_name), macro)(*args)).strip()


def normalize_customer_id(expr: str) -> str:
    """Macro normalize_customer_id: '12923.0' and '12923' are the same customer."""
    return render_macro("portable.sql", "normalize_customer_id", expr)
