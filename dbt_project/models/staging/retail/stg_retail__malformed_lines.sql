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
    cast(null as varchar) as raw_line,
    cast(null as varchar) as reader_error
where false
{%- else %}
-- The raw file, for lineage: {{ source('retail', 'transaction_lines') }}
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
{%- endif %}
