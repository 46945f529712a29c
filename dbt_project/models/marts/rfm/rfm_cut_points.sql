-- Why a customer has the scores and tier they have: the quartile cut points of the as-of snapshot,
-- by the macro int_snapshot_customer_scores scores with (quartile_cut_points).
-- A value at or below p25 scores 1 (recency: 4), up to p50 2, up to p75 3, above 4;
-- an rfm_score at or below p25 is Bronze, up to p50 Silver, up to p75 Gold, above Platinum.
{% set drives = {'recency_days': 'r_score', 'frequency': 'f_score', 'monetary': 'm_score', 'rfm_score': 'tier'} -%}
with today as (
    {{ as_of_snapshot(ref('int_snapshot_customer_scores'), drives.keys() | list) }}
),

cut_points as (
    {% for metric, score in drives.items() -%}
    select '{{ metric }}' as metric, '{{ score }}' as drives, {{ quartile_cut_points(metric) }}
    from today
    {% if not loop.last %}union all
    {% endif %}{% endfor %}
)

select
    metric,
    drives,
    cast(p25 as double) as p25,
    cast(p50 as double) as p50,
    cast(p75 as double) as p75
from cut_points
