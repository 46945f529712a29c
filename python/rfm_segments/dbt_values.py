"""dbt vars as dbt Python models see them: `dbt.config.get` hands over a var's value as text,
so an unset (YAML null) var arrives as None, "", "None", "none" or "null". One rule for all."""
from __future__ import annotations

from typing import Any

#: What an unset var looks like by the time a dbt Python model reads it.
UNSET = (None, "", "None", "none", "null")


def is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in UNSET)


def optional(value: Any) -> Any:
    """The value, or None when the var is unset."""
    return None if is_unset(value) else value


def optional_int(value: Any) -> int | None:
    return None if is_unset(value) else int(value)


def is_true(value: Any) -> bool:
    """A boolean var (True, 'True', 'true', '1', 'yes'); unset is false."""
    return str(value).strip().lower() in ("true", "1", "yes")
