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

{% macro spark__numbered_copies(count_column, copy_name) -%}
    lateral view explode(sequence(1, cast({{ count_column }} as int))) numbered_copies as {{ copy_name }}
{%- endmacro %}

{# The raw file as relation retail.transaction_lines (the source), re-created on every run.
   A CSV is read as text lines, each split by from_csv against the header's columns in PERMISSIVE
   mode: a line with too many or too few fields (or one that does not parse) gets its text in the
   corrupt-record field. (The CSV table reader, once it prunes columns, pads or drops fields
   silently.) Well-formed lines are the source; malformed ones, with their raw text, are view
   retail.transaction_lines_malformed (stg_retail__malformed_lines). The text must be UTF-8. #}
{% macro spark__create_raw_source() -%}
    {%- set raw = source('retail', 'transaction_lines') -%}
    {%- set path = raw_file_path() -%}
    {%- set quote = var('raw_csv_quote', '"') -%}
    {%- set csv_options = {'header': 'true', 'inferSchema': 'false', 'encoding': var('raw_encoding', 'utf-8'),
                           'quote': quote, 'escape': var('raw_csv_escape', none) or quote,
                           'sep': var('raw_csv_delimiter', none) or ','} -%}
    {%- set lines_table = raw.schema ~ '.transaction_lines_text' -%}
    {%- set header_table = raw.schema ~ '.transaction_lines_header' -%}
    {%- do run_query('create database if not exists ' ~ raw.schema) -%}
    {%- for relation in [raw, raw.schema ~ '.transaction_lines_malformed'] -%}
        {%- do run_query('drop view if exists ' ~ relation) -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
    {%- endfor -%}
    {%- for table in [lines_table, header_table] -%}{%- do run_query('drop table if exists ' ~ table) -%}{%- endfor -%}
    {%- if raw_file_is_parquet() -%}
        {%- do run_query('create table ' ~ raw ~ ' using parquet options (path ' ~ quote_text(path) ~ ')') -%}
        {%- do run_query('create view ' ~ raw.schema ~ '.transaction_lines_malformed as select cast(null as string) as raw_line where false') -%}
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
                select line, from_csv(line, {{ quote_text(schema_ddl | join(', ')) }}, map(
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
        {%- do run_query('create view ' ~ raw.schema ~ '.transaction_lines_malformed as ' ~ split_lines ~ ' select line as raw_line from checked where is_malformed') -%}
    {%- endif -%}
{%- endmacro %}

{% macro spark__check_raw_input() -%}
    {%- if execute and raw_input_is_selected() -%}
        {%- do create_raw_source() -%}
    {%- endif -%}
{%- endmacro %}

{# Lines the CSV reader could not split (macro spark__create_raw_source). Spark does not number
   lines, so line_number is empty here (the raw text identifies the line). #}
{% macro spark__malformed_raw_lines(raw) -%}
select
    cast(null as bigint) as line_number,
    raw_line,
    'the line does not split into the header\'s fields' as reader_error
from {{ raw.schema }}.transaction_lines_malformed
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

{# Incremental models are rebuilt whole on Spark: its tables here are parquet (Delta and Iceberg
   jars are not installed), which take neither delete+insert nor DELETE. A cluster with Delta
   could use `merge`; the answers are the same either way. #}
{% materialization incremental, adapter='spark' -%}
    {{ return(materialization_table_spark()) }}
{%- endmaterialization %}

{% macro spark__delete_stale_snapshots(relation, snapshot_dates) -%}{%- endmacro %}

{# dbt-spark's listagg drops the order (collect_list); Spark 4 has the standard ordered form. #}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not implemented for Spark here") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}

{# The customer attributes file as table <staging schema>.stg_crm__customers_file, re-created when
   the staging model compiles: every CSV value as text (no inference), and FAILFAST, so a line
   the reader cannot split fails the build as DuckDB's strict reader does. #}
{% macro spark__customers_file_reader() -%}
    {%- set path = customers_file_path() -%}
    {%- set table = this.schema ~ '.stg_crm__customers_file' -%}
    {%- if execute -%}
        {%- do run_query('create database if not exists ' ~ this.schema) -%}
        {%- do run_query('drop table if exists ' ~ table) -%}
        {%- if path.lower().endswith('.parquet') -%}
            {%- do run_query('create table ' ~ table ~ ' using parquet options (path ' ~ quote_text(path) ~ ')') -%}
        {%- else -%}
            {%- set quote = var('customers_csv_quote', '"') -%}
            {%- set options = {'path': path, 'header': 'true', 'inferSchema': 'false', 'mode': 'FAILFAST',
                               'encoding': var('customers_encoding', 'utf-8'), 'quote': quote,
                               'escape': var('customers_csv_escape', none) or quote,
                               'sep': var('customers_csv_delimiter', none) or ','} -%}
            {%- do run_query('create table ' ~ table ~ ' using csv options (' ~ spark_options_sql(options) ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {{ table }}
{%- endmacro %}

{# Spark numbers rows only in an order: the file's, as read. #}
{% macro spark__file_row_number() -%}
    row_number() over (order by monotonically_increasing_id())
{%- endmacro %}

{# A data source's options as Spark SQL: 'key' 'value', ... (both as escaped literals). #}
{% macro spark_options_sql(options) -%}
    {%- set pairs = [] -%}
    {%- for key, value in options.items() -%}{%- do pairs.append(quote_text(key) ~ ' ' ~ quote_text(value)) -%}{%- endfor -%}
    {{ return(pairs | join(', ')) }}
{%- endmacro %}

{# Spark reads the raw file as unnumbered text lines: line_number is empty by design (test
   numbered_by_the_reader). #}
{% macro spark__lines_without_number(model, column_name) -%}
select * from {{ model }} where false
{%- endmacro %}
