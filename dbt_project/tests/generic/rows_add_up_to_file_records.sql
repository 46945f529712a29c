{# The outcome counts of a quality summary add up to the data records of the raw file, counted
   without the CSV parser: physical non-blank lines (read as plain text, no quoting) less the
   header line, less the line breaks inside quoted values (a record that spans lines). A reader
   that skipped a line it could not parse would make this fail. Parquet: the row count in the
   file's metadata. #}
{% test rows_add_up_to_file_records(model, column) %}
{%- set path = raw_file_path() | replace("'", "''") -%}
{%- set raw = source('retail', 'transaction_lines') -%}
with summary as (
    select sum({{ column }}) as counted from {{ model }}
),

{%- if raw_file_is_parquet() %}

file_records as (
    select sum(num_rows) as records from parquet_file_metadata('{{ path }}')
)
{%- else %}
{%- set columns = raw_transaction_columns(raw).found %}

physical_lines as (
    select count(*) as lines
    from read_csv('{{ path }}', header = false, columns = {'raw_line': 'varchar'},
                  delim = '{{ "\x1f" }}', quote = '', escape = '', auto_detect = false,
                  strict_mode = false, encoding = '{{ var("raw_encoding", "utf-8") }}')
    where raw_line <> ''
),

breaks_in_parsed as (
    select coalesce(sum(
        {%- for column in columns %}
        {{ "+ " if not loop.first }}coalesce(length({{ adapter.quote(column.name) }}) - length(replace({{ adapter.quote(column.name) }}, chr(10), '')), 0)
        {%- endfor %}
    ), 0) as breaks
    from {{ raw }}
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
