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
