{# DuckDB forms that need more than an expression (the default__ of a dispatched macro). #}

{# Lines the CSV reader could not split: DuckDB's read_csv(store_rejects = true) records them in
   session tables, which the pre-hook of stg_retail__malformed_lines fills in the model's session. #}
{% macro default__malformed_raw_lines(raw) -%}
-- The raw file, for lineage: {{ raw }}
with latest_scan as (
    select max(scan_id) as scan_id from temp.reject_scans
)

select
    cast(reject_errors.line as bigint) as line_number,
    min(reject_errors.csv_line) as raw_line,
    string_agg(distinct reject_errors.error_type, '; ') as reader_error
from temp.reject_errors as reject_errors
inner join latest_scan
    on reject_errors.scan_id = latest_scan.scan_id
group by reject_errors.line
{%- endmacro %}


{# A bit per value of the key's range (1..lines: a bitmap of lines / 8 bytes). #}
{% macro duckdb__line_key_repeats(model, column_name) -%}
    select count({{ column_name }}) - coalesce(bit_count(bitstring_agg({{ column_name }})), 0) as repeated_values
    from {{ model }}
{%- endmacro %}
