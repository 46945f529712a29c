-- Lines of the customer attributes file the CSV reader could not split into the header's fields
-- (too many or too few fields, a stray quote, invalid bytes), one row per line with its raw text,
-- as stg_retail__malformed_lines does for the transactions: the source read skips them but
-- records them (store_rejects) in session tables, so the pre-hook scans the file in this model's
-- own session. The raw text is personal data: staging only, never published.
{%- set path = customers_file_path() %}
{%- set reads_csv = path and not path.lower().endswith('.parquet') %}
{{ config(
    materialized='table',
    pre_hook=["select count(*) from {{ source('crm', 'customer_attributes') }}"] if reads_csv else []
) }}

{%- if reads_csv %}
{{ adapter.dispatch('malformed_raw_lines')(source('crm', 'customer_attributes')) }}
{%- else %}
-- No file, or Parquet: no lines to misread.
select
    cast(null as bigint) as line_number,
    cast(null as {{ dbt.type_string() }}) as raw_line,
    cast(null as {{ dbt.type_string() }}) as reader_error
where false
{%- endif %}
