-- Why a customer has the scores and tier they have: the quartile cut points of the as-of snapshot,
-- the ones int_snapshot_customer_scores computed and scored with (it keeps them on every row).
-- A value at or below p25 scores 1 (recency: 4), up to p50 2, up to p75 3, above 4;
-- an rfm_score at or below p25 is Bronze, up to p50 Silver, up to p75 Gold, above Platinum.
{%- set metrics = rfm_cut_point_metrics() %}
{%- set columns = [] %}
{%- for metric, drives, higher_is_better in metrics %}
{%- do columns.extend([metric ~ '_p25', metric ~ '_p50', metric ~ '_p75']) %}
{%- endfor %}
with today as (
    {{ as_of_snapshot(ref('int_snapshot_customer_scores'), columns) }}
)

-- aggregates: one row per metric even on an empty snapshot (the cut points repeat on every row)
{% for metric, drives, higher_is_better in metrics -%}
select
    '{{ metric }}' as metric,
    '{{ drives }}' as drives,
    cast(max({{ metric }}_p25) as double) as p25,
    cast(max({{ metric }}_p50) as double) as p50,
    cast(max({{ metric }}_p75) as double) as p75
from today
{% if not loop.last %}union all
{% endif %}{% endfor %}
