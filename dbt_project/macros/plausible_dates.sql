{# The dates a sale can have. A line dated after the run date, or before the floor, is rejected
   (future_date, implausible_date) so that one mistyped year cannot move the as-of date.
   run_date: var run_date, else env SEGMENTS_RUN_DATE, else today (tests set it to stay
   reproducible). Floor: var earliest_plausible_date (set in dbt_project.yml above the
   placeholder dates of exports, 0001-01-01, 1899-12-30, 1900-01-01, 1970-01-01). #}
{% macro run_date() -%}
    {%- set given = var('run_date', none) or env_var('SEGMENTS_RUN_DATE', '') -%}
    {%- if given -%} cast({{ quote_text(given) }} as date)
    {%- else -%} current_date
    {%- endif -%}
{%- endmacro %}

{% macro earliest_plausible_date() -%}
    cast({{ quote_text(var('earliest_plausible_date')) }} as date)
{%- endmacro %}
