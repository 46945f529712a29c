-- Platinum/Gold/Silver/Bronze from the quartile cut points of rfm_score.
with cuts as (
    select * from {{ ref('rfm_cut_points') }} where metric = 'rfm_score'
),

tiered as (
    select
        scores.*,
        {{ quartile_score('scores.rfm_score', 'cuts') }} as tier_rank
    from {{ ref('int_customer_rfm_scores') }} as scores
    cross join cuts
)

select
    customer_id,
    r_score,
    f_score,
    m_score,
    rfm_score,
    cast(tier_rank as integer) as tier_rank,
    {{ tier_name('tier_rank') }} as tier
from tiered
