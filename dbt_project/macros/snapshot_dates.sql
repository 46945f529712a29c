{# The snapshot dates of the history models: var snapshot_dates (a YAML list or a comma-separated
   string of ISO dates), or null = the first day of every month after the first sale up to the
   as-of date, plus the as-of date itself (so the latest snapshot is the current segmentation).
   Months come from a 0..999 counter and dbt.dateadd, which ports to other warehouses. #}
{% macro snapshot_date_list() -%}
    {%- set given = var('snapshot_dates', none) -%}
    {%- if given is string -%}
        {%- set given = given.split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- endif -%}
    {{ return(given or []) }}
{%- endmacro %}
