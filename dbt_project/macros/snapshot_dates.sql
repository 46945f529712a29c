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

{# Post-hook of the incremental snapshot models: drops the snapshots no longer in the list (the
   previous as-of date). Spark rebuilds those models whole (macros/engines/spark.sql), so none. #}
{% macro delete_stale_snapshots(relation, snapshot_dates) -%}
    {{ adapter.dispatch('delete_stale_snapshots')(relation, snapshot_dates) }}
{%- endmacro %}

{% macro default__delete_stale_snapshots(relation, snapshot_dates) -%}
    delete from {{ relation }} where snapshot_date not in (select snapshot_date from {{ snapshot_dates }})
{%- endmacro %}
