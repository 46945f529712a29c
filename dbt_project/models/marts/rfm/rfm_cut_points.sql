-- Why a customer has the scores and tier they have: the quartile cut points used.
-- A value at or below p25 scores 1 (recency: 4), up to p50 2, up to p75 3, above 4;
-- an rfm_score at or below p25 is Bronze, up to p50 Silver, up to p75 Gold, above Platinum.
with tier_cut_points as (
    select 'rfm_score' as metric, {{ quartile_cut_points('rfm_score') }}
    from {{ ref('int_customer_rfm_scores') }}
),

all_cut_points as (
    select metric, p25, p50, p75 from {{ ref('int_rfm_feature_cut_points') }}
    union all
    select metric, p25, p50, p75 from tier_cut_points
)

select
    metric,
    case metric
        when 'recency_days' then 'r_score'
        when 'frequency' then 'f_score'
        when 'monetary' then 'm_score'
        else 'tier'
    end as drives,
    cast(p25 as double) as p25,
    cast(p50 as double) as p50,
    cast(p75 as double) as p75
from all_cut_points
