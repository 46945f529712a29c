{# The outcome counts of a quality summary add up to the data records of the raw file, counted
   without the CSV parser: physical non-blank lines less the header line, less the line breaks
   inside quoted values (a record that spans lines). A reader that skipped a line it could not
   parse would make this fail.
   The physical lines come from var raw_file_lines, which the CLI counts from the raw bytes
   (ingest.scan_lines): DuckDB skips a line longer than max_line_size without a trace, in any
   reader, so a count by DuckDB would share that blind spot. Without the var (plain dbt), the
   lines are read as plain text by DuckDB (no quoting, raw_csv_max_line_size). The line breaks
   inside values are counted in the load (stg_retail__transaction_lines.line_breaks), so the file
   is not parsed a second time. Parquet: the row count in the file's metadata. #}
{% test rows_add_up_to_file_records(model, column) %}
with summary as (
    select sum({{ column }}) as counted from {{ model }}
),

{%- if raw_file_is_parquet() %}

file_records as (
    {{ adapter.dispatch('raw_file_parquet_records')() }}
)
{%- else %}

physical_lines as (
{%- if var('raw_file_lines', none) is not none %}
    select cast({{ var('raw_file_lines') | int }} as bigint) as lines
{%- else %}
    {{ adapter.dispatch('raw_file_physical_lines')() }}
{%- endif %}
),

-- Counted in the load (stg_retail__transaction_lines.line_breaks), not by parsing the file again.
breaks_in_parsed as (
    select coalesce(sum(line_breaks), 0) as breaks
    from {{ ref('stg_retail__transaction_lines') }}
),

breaks_in_malformed as (
    select coalesce(sum(length(raw_line) - length(replace(raw_line, chr(10), ''))), 0) as breaks
    from {{ ref('stg_retail__malformed_lines') }}
),

file_records as (
    select physical_lines.lines - 1 - breaks_in_parsed.breaks - breaks_in_malformed.breaks as records
    from physical_lines cross join breaks_in_parsed cross join breaks_in_malformed
)
{%- endif %}

select summary.counted, file_records.records
from summary cross join file_records
where summary.counted is distinct from file_records.records
{% endtest %}
