{# DuckDB-specific expressions live here, each with one portable name, so the models port
   to another warehouse by overriding these macros. #}

{# Customer ids exported from floats ('12923.0') and as text ('12923') are the same customer;
   text ids keep leading zeros. #}
{% macro normalize_customer_id(expr) -%}
    nullif(regexp_replace(trim({{ expr }}), '\.0+$', ''), '')
{%- endmacro %}

{# Parses a text timestamp (ISO, or the strptime `format` given); null when it does not parse. #}
{% macro parse_timestamp(expr, format=none) -%}
    {%- if format -%}
        try_strptime(nullif(trim({{ expr }}), ''), '{{ format | replace("'", "''") }}')
    {%- else -%}
        {{ dbt.safe_cast("nullif(trim(" ~ expr ~ "), '')", api.Column.translate_type("timestamp")) }}
    {%- endif -%}
{%- endmacro %}

{% macro parse_number(expr, type) -%}
    {{ dbt.safe_cast("nullif(trim(" ~ expr ~ "), '')", type) }}
{%- endmacro %}

{# A whole number ('6' or '6.0'); null for '6.5', which a plain cast would round to 7. #}
{% macro parse_whole_number(expr, type) -%}
    {%- set exact = parse_number(expr, 'decimal(38, 6)') -%}
    case when {{ exact }} = round({{ exact }}) then cast({{ exact }} as {{ type }}) end
{%- endmacro %}

{# Floating-point sums depend on the order parallel threads add them in; summing fixed-point
   decimals is exact, so a rebuild gives identical digits. #}
{% macro exact_sum(expr) -%}
    sum(cast({{ expr }} as decimal(38, 18)))
{%- endmacro %}

{% macro exact_avg(expr) -%}
    ({{ exact_sum(expr) }} / count({{ expr }}))
{%- endmacro %}

{# dbt's default safe_cast is a plain cast, which on DuckDB fails the whole build on one bad
   value; try_cast gives null, which staging turns into a reject reason. #}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{# Joins each row to the numbers 1..count_column as copy_name: a row counted n times comes
   back as n rows. Elsewhere: a join to a numbers table on copy_name <= count_column. #}
{% macro numbered_copies(count_column, copy_name) -%}
    cross join generate_series(1, {{ count_column }}) as numbered_copies({{ copy_name }})
{%- endmacro %}
