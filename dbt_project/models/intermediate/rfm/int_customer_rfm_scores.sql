-- R, F and M scores 1..4 (4 is best; recency reversed) and their sum.
with cut_points as (
    select * from {{ ref('int_rfm_feature_cut_points') }}
),

scored as (
    select
        rfm.customer_id,
        {{ quartile_score('rfm.recency_days', 'r_cuts', higher_is_better=false) }} as r_score,
        {{ quartile_score('rfm.frequency', 'f_cuts') }} as f_score,
        {{ quartile_score('rfm.monetary', 'm_cuts') }} as m_score
    from {{ ref('customer_rfm') }} as rfm
    cross join (select * from cut_points where metric = 'recency_days') as r_cuts
    cross join (select * from cut_points where metric = 'frequency') as f_cuts
    cross join (select * from cut_points where metric = 'monetary') as m_cuts
)

select
    customer_id,
    cast(r_score as integer) as r_score,
    cast(f_score as integer) as f_score,
    cast(m_score as integer) as m_score,
    cast(r_score + f_score + m_score as integer) as rfm_score
from scored
