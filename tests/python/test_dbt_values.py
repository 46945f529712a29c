"""The one rule for unset dbt vars in Python models (rfm_segments.dbt_values)."""
from __future__ import annotations

import pytest

from rfm_segments.dbt_values import is_unset, optional, optional_int


@pytest.mark.parametrize("unset", [None, "", "None", "none", "null", " None "])
def test_a_null_var_as_dbt_hands_it_over_is_unset(unset):
    assert is_unset(unset) and optional(unset) is None and optional_int(unset) is None


@pytest.mark.parametrize("value, as_int", [("5", 5), (5, 5), ("0", 0), (0, 0)])
def test_a_set_var_is_kept(value, as_int):
    assert not is_unset(value) and optional(value) == value and optional_int(value) == as_int


def test_a_date_var_is_kept_as_given():
    assert optional("2011-06-01") == "2011-06-01" and not is_unset(False)
