-- Classic named RFM segment per customer, from r_score and the combined F/M score via seed
-- rfm_named_segment_map (which covers every score combination: see the seed's tests).
with scores as (
    select
        customer_id,
        r_score,
        {{ fm_score('f_score', 'm_score') }} as fm_score
    from {{ ref('int_customer_rfm_scores') }}
)

select
    scores.customer_id,
    scores.r_score,
    scores.fm_score,
    segment_map.named_segment
from scores
left join {{ ref('rfm_named_segment_map') }} as segment_map
    on scores.r_score = segment_map.r_score
    and scores.fm_score = segment_map.fm_score
