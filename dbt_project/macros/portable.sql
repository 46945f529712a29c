{# Engine-specific expressions live here, each with one portable name: the DuckDB form is the
   default__ implementation, other engines override it (macros/engines/, e.g. spark__). #}

{# Customer ids exported from floats ('12923.0') and as text ('12923') are the same customer;
   text ids keep leading zeros. `[.]`, not a backslash: Spark reads '\.0+$' as '.0+$' and turns
   '12900' into '12' (unit test normalize_customer_id_keeps_inner_zeros). #}
{% macro normalize_customer_id(expr) -%}
    nullif(regexp_replace(trim({{ expr }}), '[.]0+$', ''), '')
{%- endmacro %}

{# Parses a text timestamp (ISO, or the strptime `format` given); null when it does not parse.
   An ISO time with a UTC offset ('2011-12-09 23:30:00+02', '...Z') is converted to UTC (a plain
   cast would drop the offset silently). #}
{% macro parse_timestamp(expr, format=none) -%}
    {%- set text = "nullif(trim(" ~ expr ~ "), '')" -%}
    {%- if format -%}
        {{ adapter.dispatch('parse_timestamp_with_format')(text, format) }}
    {%- else -%}
        {{ adapter.dispatch('parse_iso_timestamp')(text) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__parse_timestamp_with_format(text, format) -%}
    try_strptime({{ text }}, {{ quote_text(format) }})
{%- endmacro %}

{% macro default__parse_iso_timestamp(text) -%}
        case
            when regexp_matches({{ text }}, ':[0-9]{2}([.][0-9]+)?[ ]*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$')
                then {{ timestamp_in_utc(dbt.safe_cast(text, "timestamptz")) }}
            else {{ dbt.safe_cast(text, api.Column.translate_type("timestamp")) }}
        end
{%- endmacro %}

{# A time-zone-aware timestamp as the plain timestamp of the same instant in UTC. #}
{% macro timestamp_in_utc(expr) -%}
    {{ adapter.dispatch('timestamp_in_utc')(expr) }}
{%- endmacro %}

{% macro default__timestamp_in_utc(expr) -%}
    timezone('UTC', {{ expr }})
{%- endmacro %}

{# Amounts are decimal(18, 4): below 10^14. #}
{% macro largest_amount() -%} 1e14 {%- endmacro %}

{# True when `text_expr` is a finite number (whole, if `whole`) but `parsed_expr`, its value in
   the column's type, is null: too large for the column, rejected as number_out_of_range rather
   than aborting the build on a cast error. #}
{% macro number_out_of_range(text_expr, parsed_expr, whole=false) -%}
    {%- set number = "try_cast(nullif(trim(" ~ text_expr ~ "), '') as double)" -%}
    coalesce({{ is_finite(number) }}{% if whole %} and {{ number }} = round({{ number }}){% endif %}, false)
        and {{ parsed_expr }} is null
{%- endmacro %}

{% macro is_finite(expr) -%}
    {{ adapter.dispatch('is_finite')(expr) }}
{%- endmacro %}

{% macro default__is_finite(expr) -%}
    isfinite({{ expr }})
{%- endmacro %}

{% macro parse_number(expr, type) -%}
    {{ dbt.safe_cast("nullif(trim(" ~ expr ~ "), '')", type) }}
{%- endmacro %}

{# A whole number ('6' or '6.0'); null for '6.5', which a plain cast would round to 7. #}
{% macro parse_whole_number(expr, type) -%}
    {%- set exact = parse_number(expr, 'decimal(38, 6)') -%}
    case when {{ exact }} = round({{ exact }}) then {{ dbt.safe_cast(exact, type) }} end
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

{# The line key of the raw file's parsed records: DuckDB's reader keeps the file's order
   (preserve_insertion_order), so this is the record's ordinal in the file (1 = the first data
   record), a streaming window that costs no sort. Spark: an id unique per row of the loaded
   table (not consecutive). #}
{% macro record_number() -%}
    {{ adapter.dispatch('record_number')() }}
{%- endmacro %}

{% macro default__record_number() -%}
    cast(row_number() over () as bigint)
{%- endmacro %}

{# The line key of the load (stg_retail__transaction_lines), in two parts: the column in the
   select and the post-hook that fills it. DuckDB: a window in the select would run the CSV scan
   and every parse on one thread, so the column is filled after the parallel load from the
   table's rowid (0, 1, ... in insertion order, which preserve_insertion_order keeps as file
   order). Other engines number in the select (record_number) and need no hook. #}
{% macro loaded_record_number() -%}
    {{ adapter.dispatch('loaded_record_number')() }}
{%- endmacro %}

{% macro default__loaded_record_number() -%}
    {{ record_number() }}
{%- endmacro %}

{% macro duckdb__loaded_record_number() -%}
    cast(null as bigint)
{%- endmacro %}

{% macro number_loaded_records(relation) -%}
    {{ adapter.dispatch('number_loaded_records')(relation) }}
{%- endmacro %}

{% macro default__number_loaded_records(relation) -%}
{%- endmacro %}

{% macro duckdb__number_loaded_records(relation) -%}
    update {{ relation }} set record_number = rowid + 1
{%- endmacro %}

{# A 64-bit hash of a row's values, to find candidate duplicates cheaply (equal rows have equal
   hashes; the rows sharing a hash are then compared value by value). #}
{% macro row_hash(columns) -%}
    {{ adapter.dispatch('row_hash')(columns) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{# Integer division (DuckDB `//`; `/` gives a double). #}
{% macro integer_divide(dividend, divisor) -%}
    {{ adapter.dispatch('integer_divide')(dividend, divisor) }}
{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}

{# An exact amount (decimal, at most 4 places) divided by a whole count, rounded half away from
   zero to the cent, in integer arithmetic: dividing decimals gives a double on DuckDB and an exact
   decimal on Spark, which round x.xx5 differently (10.005 is 10.00 as a double, 10.01 exactly). #}
{% macro money_per(amount, count) -%}
    {%- set ten_thousandths = "cast(abs(" ~ amount ~ ") * 10000 as bigint)" -%}
    cast(sign({{ amount }}) * {{ integer_divide("2 * " ~ ten_thousandths ~ " + 100 * " ~ count, "200 * " ~ count) }} / 100.0 as decimal(18, 2))
{%- endmacro %}

{# The number of repeated non-null values of an integer key (test unique_line_key). #}
{% macro default__line_key_repeats(model, column_name) -%}
    select count({{ column_name }}) - count(distinct {{ column_name }}) as repeated_values
    from {{ model }}
{%- endmacro %}
