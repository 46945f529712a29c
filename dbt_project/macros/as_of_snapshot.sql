{# Today's rows of a per-snapshot relation: the as-of date is always a snapshot (int_snapshot_dates),
   so today's models are the latest snapshot of the one snapshot pipeline, never a second query.
   `columns` are the relation's columns to keep (an entry may rename: 'snapshot_date as as_of_date'). #}
{% macro as_of_snapshot(relation, columns) -%}
select
    {% for column in columns -%}
    snapshots.{{ column }}{% if not loop.last %},{% endif %}
    {% endfor -%}
from {{ relation }} as snapshots
join {{ ref('int_rfm_as_of_date') }} as as_of
    on snapshots.snapshot_date = as_of.as_of_date
{%- endmacro %}

{# The config of the per-snapshot models (int_snapshot_customer_rfm, _scores): a run rebuilds only
   the snapshots whose input changed (the model says which); snapshots no longer in
   int_snapshot_dates (the previous as-of date) are dropped after the run. #}
{% macro per_snapshot_incremental() -%}
    {{ return(adapter.dispatch('per_snapshot_incremental')()) }}
{%- endmacro %}

{% macro default__per_snapshot_incremental() -%}
    {{ return({
        'materialized': 'incremental',
        'unique_key': 'snapshot_date',
        'incremental_strategy': 'delete+insert',
        'on_schema_change': 'sync_all_columns',
        'post_hook': "{{ delete_stale_snapshots(this, ref('int_snapshot_dates')) }}",
    }) }}
{%- endmacro %}
