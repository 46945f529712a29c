-- CSV lines the reader could not split into the header's fields (too many or too few fields,
-- a stray quote, invalid bytes), one row per line with its raw text. The source read skips
-- them but records them (store_rejects) in session tables, so the pre-hook scans the file in
-- this model's own session and the model keeps what that scan recorded.
{{ config(
    materialized='table',
    pre_hook=[] if raw_file_is_parquet() else ["select count(*) from {{ source('retail', 'transaction_lines') }}"]
) }}

{%- if raw_file_is_parquet() %}
-- Parquet has no lines to misread.
select
    cast(null as bigint) as line_number,
    cast(null as {{ dbt.type_string() }}) as raw_line,
    cast(null as {{ dbt.type_string() }}) as reader_error
where false
{%- else %}
{{ adapter.dispatch('malformed_raw_lines')(source('retail', 'transaction_lines')) }}
{%- endif %}
