{# A line key (record_number, line_number) that repeats: the number of repeated values, if any.
   Nulls are allowed (a malformed line has a line_number and no record_number). The lines are the
   project's biggest tables, so the check is dispatched: DuckDB sets one bit per value over the
   key's range (bitstring_agg, from the column's statistics), 15-25x faster than an aggregate
   over every line. #}
{% test unique_line_key(model, column_name) %}
select repeated_values
from ({{ adapter.dispatch('line_key_repeats')(model, column_name) }}) as repeats
where repeated_values > 0
{% endtest %}
