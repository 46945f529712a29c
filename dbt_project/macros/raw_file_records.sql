{# The raw file's records counted without the CSV parser, for test rows_add_up_to_file_records
   (dispatched: Spark's forms are in macros/engines/spark.sql). #}
{% macro default__raw_file_parquet_records() -%}
    select sum(num_rows) as records from parquet_file_metadata({{ quote_text(raw_file_path()) }})
{%- endmacro %}

{% macro default__raw_file_physical_lines() -%}
    select count(*) as lines
    from read_csv({{ quote_text(raw_file_path()) }}, header = false, columns = {'raw_line': 'varchar'},
                  delim = '{{ "\x1f" }}', quote = '', escape = '', auto_detect = false,
                  strict_mode = false, encoding = {{ quote_text(var("raw_encoding", "utf-8")) }},
                  max_line_size = {{ var("raw_csv_max_line_size", 2000000) | int }})
    where raw_line <> ''
{%- endmacro %}

{# Line breaks inside the values of one raw CSV record (a quoted value spanning lines), summed
   over the file's columns; counted exactly only for the rare record that has one (one search of
   the joined values first); 0 for Parquet, which has no lines. #}
{% macro line_breaks_in_values(raw) -%}
{%- if raw_file_is_parquet() -%}
    cast(0 as bigint)
{%- else -%}
    {%- set columns = [] -%}
    {%- for column in raw_transaction_columns(raw).found -%}{%- do columns.append(quote_file_column(column.name)) -%}{%- endfor -%}
    cast(case when instr(concat_ws('', {{ columns | join(', ') }}), chr(10)) > 0 then 0
    {%- for column in columns %}
        + coalesce(length({{ column }}) - length(replace({{ column }}, chr(10), '')), 0)
    {%- endfor %}
    else 0 end as bigint)
{%- endif -%}
{%- endmacro %}
