{# Apache Spark (dbt-spark, docs/spark.md): the Spark side of every engine difference. Each macro
   here is the spark__ implementation of a macro dispatched from macros/ (the DuckDB or standard
   SQL form sits beside the dispatcher as default__), so models never test the engine. #}

{# Spark SQL string literals treat a backslash as an escape, so `\` and `'` are both escaped. #}
{% macro spark__quote_text(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{% macro spark__quote_file_column(name) -%}
    `{{ name | string | replace('`', '``') }}`
{%- endmacro %}

{# dbt-spark's safe_cast is a plain cast, which fails the build under ANSI mode. #}
{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro spark__parse_timestamp_with_format(text, format) -%}
    try_to_timestamp({{ text }}, {{ quote_text(java_datetime_pattern(format)) }})
{%- endmacro %}

{# Spark's cast reads ISO text with a UTC offset ('...+02', '...Z') as that instant, shown in the
   session time zone (UTC in the profile), and text without one as UTC. #}
{% macro spark__parse_iso_timestamp(text) -%}
    try_cast({{ text }} as timestamp)
{%- endmacro %}

{% macro spark__timestamp_in_utc(expr) -%}
    {{ expr }}
{%- endmacro %}

{% macro spark__is_finite(expr) -%}
    (not isnan({{ expr }}) and abs({{ expr }}) < double('infinity'))
{%- endmacro %}

{% macro spark__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) div ({{ divisor }}))
{%- endmacro %}

{# The ordinal (1, 2, ...) for a file read in one partition; a unique id per record otherwise. #}
{% macro spark__record_number() -%}
    (monotonically_increasing_id() + 1)
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{# The raw file as relation retail.transaction_lines (the source), re-created on every run. #}
{% macro spark__create_raw_source() -%}
    {%- do create_spark_csv_source(source('retail', 'transaction_lines'), raw_file_path(), raw_file_is_parquet(),
                                   var('raw_encoding', 'utf-8'), var('raw_csv_quote', '"'),
                                   var('raw_csv_escape', none), var('raw_csv_delimiter', none)) -%}
{%- endmacro %}

{# The customer attributes file (var customers_path) as relation crm.customer_attributes, read as
   the transactions are: its malformed lines go to stg_crm__malformed_lines. #}
{% macro create_spark_customers_source() -%}
    {%- set path = customers_file_path() -%}
    {%- do create_spark_csv_source(source('crm', 'customer_attributes'), path, path.lower().endswith('.parquet'),
                                   var('customers_encoding', 'utf-8'), var('customers_csv_quote', '"'),
                                   var('customers_csv_escape', none), var('customers_csv_delimiter', none)) -%}
{%- endmacro %}

{# A file as relation `raw` (a source), dropped and re-created: Parquet as a table; a CSV read as
   text lines, each split by from_csv against the header's columns in PERMISSIVE mode: a line with
   too many or too few fields (or one that does not parse) gets its text in the corrupt-record
   field. (The CSV table reader, once it prunes columns, pads or drops fields silently.)
   Well-formed lines are the source; malformed ones, with their raw text and position, are view
   <raw>_malformed (macro spark__malformed_raw_lines). The text must be UTF-8. #}
{% macro create_spark_csv_source(raw, path, is_parquet, encoding, quote, escape, delimiter) -%}
    {%- set csv_options = {'header': 'true', 'inferSchema': 'false', 'encoding': encoding,
                           'quote': quote, 'escape': escape or quote, 'sep': delimiter or ','} -%}
    {%- set malformed = raw.schema ~ '.' ~ raw.identifier ~ '_malformed' -%}
    {%- set lines_table = raw.schema ~ '.' ~ raw.identifier ~ '_text' -%}
    {%- set header_table = raw.schema ~ '.' ~ raw.identifier ~ '_header' -%}
    {%- do run_query('create database if not exists ' ~ raw.schema) -%}
    {%- for relation in [raw, malformed] -%}
        {%- do run_query('drop view if exists ' ~ relation) -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
    {%- endfor -%}
    {%- for table in [lines_table, header_table] -%}{%- do run_query('drop table if exists ' ~ table) -%}{%- endfor -%}
    {%- if is_parquet -%}
        {%- do run_query('create table ' ~ raw ~ ' using parquet options (path ' ~ quote_text(path) ~ ')') -%}
        {%- do run_query('create view ' ~ malformed ~ ' as select cast(null as string) as raw_line, cast(null as bigint) as position where false') -%}
    {%- else -%}
        {%- set options_sql = spark_options_sql(csv_options) -%}
        {%- do run_query('create table ' ~ header_table ~ ' using csv options (path ' ~ quote_text(path) ~ ', ' ~ options_sql ~ ')') -%}
        {%- set columns = [] -%}
        {%- for row in run_query('describe table ' ~ header_table).rows if row[0] and not row[0].startswith('#') -%}
            {%- do columns.append(row[0]) -%}
        {%- endfor -%}
        {%- do run_query('drop table ' ~ header_table) -%}
        {%- do run_query('create table ' ~ lines_table ~ ' using text options (path ' ~ quote_text(path) ~ ')') -%}
        {%- set schema_ddl = [] -%}
        {%- for column in columns + ['_rfm_parse_error'] -%}
            {%- do schema_ddl.append(quote_file_column(column) ~ ' string') -%}
        {%- endfor -%}
        {%- set split_lines -%}
            with numbered as (
                select value as line, monotonically_increasing_id() as position from {{ lines_table }}
            ),
            split as (
                select line, position, from_csv(line, {{ quote_text(schema_ddl | join(', ')) }}, map(
                    'sep', {{ quote_text(csv_options.sep) }}, 'quote', {{ quote_text(quote) }},
                    'escape', {{ quote_text(csv_options.escape) }},
                    'mode', 'PERMISSIVE', 'columnNameOfCorruptRecord', '_rfm_parse_error')) as fields
                from numbered
                where position > 0 and line <> ''
            ),
            checked as (
                select *, fields.`_rfm_parse_error` is not null as is_malformed
                from split
            )
        {%- endset -%}
        {%- set fields -%}
            {% for column in columns %}fields.{{ quote_file_column(column) }}{{ ", " if not loop.last }}{% endfor %}
        {%- endset -%}
        {%- do run_query('create view ' ~ raw ~ ' as ' ~ split_lines ~ ' select ' ~ fields ~ ' from checked where not is_malformed') -%}
        {%- do run_query('create view ' ~ malformed ~ ' as ' ~ split_lines ~ ' select line as raw_line, position from checked where is_malformed') -%}
    {%- endif -%}
{%- endmacro %}

{% macro spark__check_raw_input() -%}
    {%- if execute and raw_input_is_selected() -%}
        {%- do create_raw_source() -%}
    {%- endif -%}
    {%- if execute and customers_file_path() and raw_input_is_selected(customers_source_unique_id()) -%}
        {%- do create_spark_customers_source() -%}
    {%- endif -%}
{%- endmacro %}

{# Lines the CSV reader could not split (macro spark__create_raw_source). Spark numbers the text
   lines by monotonically_increasing_id: for a file read in one partition that is the line number
   less one (1 = the header, as on DuckDB); for a larger file it is an id unique per line, the key
   of the line-grain models (record_number, line_number). #}
{% macro spark__malformed_raw_lines(raw) -%}
select
    cast(position + 1 as bigint) as line_number,
    raw_line,
    'the line does not split into the header\'s fields' as reader_error
from {{ raw.schema }}.{{ raw.identifier }}_malformed
{%- endmacro %}

{% macro spark__raw_file_physical_lines() -%}
    select count(*) as lines from text.{{ quote_file_column(raw_file_path()) }} where value <> ''
{%- endmacro %}

{% macro spark__raw_file_parquet_records() -%}
    select count(*) as records from {{ source('retail', 'transaction_lines') }}
{%- endmacro %}

{# Publishing for BI (main.dbt_invocations, `make publish`) reads the DuckDB warehouse; a Spark
   build is reported by the command that ran it (python -m rfm_segments run --engine spark). #}
{% macro spark__record_dbt_invocation_start() -%}{%- endmacro %}
{% macro spark__record_dbt_invocation_end(results) -%}{%- endmacro %}

{# dbt-spark's session seed loader formats bound values into the SQL unquoted (a `'` breaks the
   statement, an empty cell becomes the text 'None'): values go in as escaped literals instead. #}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set col_name = agate_table.column_names[loop.index0] -%}
                    {%- set type = spark_type_name(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                    cast({{ 'null' if value is none else quote_text(value) }} as {{ type }})
                    {{- ", " if not loop.last }}
                {%- endfor -%}){{ "," if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{# Contracts (YAML data_type) and casts name text `varchar`, the SQL standard's word, which Spark
   accepts only with a length: a plain `varchar` is Spark's `string`. #}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type_name(type) }})
{%- endmacro %}

{% macro spark_type_name(type) -%}
    {{ return('string' if type | trim | lower in ('varchar', 'text') else type) }}
{%- endmacro %}

{# dbt-spark's seed table, with the seeds' column_types (`varchar`) as Spark names them. #}
{% macro spark__create_csv_table(model, agate_table) -%}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
  {%- set sql -%}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set type = spark_type_name(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
            {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }} {{ type }}{{ ", " if not loop.last }}
        {%- endfor -%}
    )
    {{ file_format_clause() }}
    {{ partition_cols(label="partitioned by") }}
    {{ clustered_cols(label="clustered by") }}
    {{ location_clause() }}
    {{ comment_clause() }}
  {%- endset -%}
  {%- call statement('_') -%}{{ sql }}{%- endcall -%}
  {{ return(sql) }}
{%- endmacro %}

{# The per-snapshot models are tables rebuilt whole on Spark: its tables here are parquet (Delta
   and Iceberg jars are not installed), which take neither delete+insert nor DELETE, and an
   incremental that reads {{ this }} while replacing it fails. A cluster with Delta could use
   `merge`; the answers are the same either way. #}
{% macro spark__per_snapshot_incremental() -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}

{# dbt-spark's listagg drops the order (collect_list); Spark 4 has the standard ordered form. #}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not implemented for Spark here") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}

{# A data source's options as Spark SQL: 'key' 'value', ... (both as escaped literals). #}
{% macro spark_options_sql(options) -%}
    {%- set pairs = [] -%}
    {%- for key, value in options.items() -%}{%- do pairs.append(quote_text(key) ~ ' ' ~ quote_text(value)) -%}{%- endfor -%}
    {{ return(pairs | join(', ')) }}
{%- endmacro %}
